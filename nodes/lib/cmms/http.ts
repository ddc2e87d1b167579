/**
 * One HTTP(S) request with node:http/https (no dependency), a hard timeout, and an honest answer
 * to "may the server have acted on it?":
 *
 *  - errors before the request was fully written (refused, DNS, TLS handshake, certificate) are
 *    not ambiguous: the server cannot have processed it;
 *  - errors after it was written (reset, timeout while waiting for the answer) are ambiguous.
 *
 * Certificates are always checked (`rejectUnauthorized: true` is passed explicitly, so not even
 * NODE_TLS_REJECT_UNAUTHORIZED=0 turns the check off). A private CA is added to Node's bundled
 * roots, never replacing them.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

export interface HttpRequestSpec {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
}

export interface HttpOptions {
  timeoutMs: number;
  agent?: http.Agent | https.Agent;
  /** PEM of extra trusted CAs (added to the bundled roots). */
  ca?: string;
  signal?: AbortSignal;
  /** Bytes of response body kept at most. */
  maxBytes?: number;
}

export class HttpError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** The request may have reached the server's application. */
    readonly ambiguous: boolean,
    /** A certificate or TLS problem (configuration, not the network). */
    readonly tls: boolean,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** The bundled roots plus `pem` (Node replaces the roots when `ca` is given alone). */
export function trustStore(pem: string | undefined): string[] | undefined {
  return pem ? [...tls.rootCertificates, pem] : undefined;
}

export function request(spec: HttpRequestSpec, options: HttpOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(spec.url);
    } catch {
      reject(new HttpError(`invalid URL ${spec.url.slice(0, 200)}`, 'ERR_INVALID_URL', false, false));
      return;
    }
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') {
      reject(new HttpError(`unsupported protocol ${url.protocol}`, 'ERR_INVALID_PROTOCOL', false, false));
      return;
    }
    const body = spec.body === undefined ? undefined : Buffer.from(spec.body, 'utf8');
    const headers: Record<string, string> = { ...spec.headers };
    if (body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['Content-Length'] = String(body.length);
    let written = false;
    let settled = false;
    const maxBytes = options.maxBytes ?? 1024 * 1024;
    const fail = (err: HttpError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(err);
    };
    const reqOptions: https.RequestOptions = {
      method: spec.method,
      headers,
      agent: options.agent,
    };
    if (secure) {
      reqOptions.rejectUnauthorized = true;
      const ca = trustStore(options.ca);
      if (ca) reqOptions.ca = ca;
    }
    const req = (secure ? https : http).request(url, reqOptions, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= maxBytes) chunks.push(c);
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(new HttpError(`response failed: ${err.message}`, err.code ?? 'ERR_RESPONSE', true, false)));
      res.on('aborted', () => fail(new HttpError('response aborted', 'ECONNRESET', true, false)));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const text = Buffer.concat(chunks).toString('utf8');
        const out: HttpResponse = { status: res.statusCode ?? 0, headers: res.headers, text };
        const type = String(res.headers['content-type'] ?? '');
        if (text && (type.includes('json') || /^\s*[[{]/.test(text))) {
          try {
            out.json = JSON.parse(text);
          } catch {
            /* not JSON after all */
          }
        }
        resolve(out);
      });
    });
    req.on('finish', () => {
      written = true;
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'ERR_REQUEST';
      const isTls = TLS_CODES.has(code) || /certificate|self[- ]signed|SSL/i.test(err.message);
      const phase = written ? 'after sending the request' : 'before the request was sent';
      fail(new HttpError(`${err.message} (${phase})`, code, written && !isTls, isTls));
    });
    const timer = setTimeout(() => {
      fail(new HttpError(`no answer within ${options.timeoutMs} ms`, 'ETIMEDOUT', written, false));
      req.destroy();
    }, options.timeoutMs);
    const onAbort = () => {
      fail(new HttpError('aborted', 'ABORT_ERR', written, false));
      req.destroy();
    };
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (body) req.end(body);
    else req.end();
  });
}
