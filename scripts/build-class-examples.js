#!/usr/bin/env node
// Writes the partner-protocol variants of the asset-class examples: for each class (motor, pump,
// compressor, fan, conveyor, gearbox) "examples/asset-classes/NN - <Class> over Modbus.json"
// (07–12) and "NN - <Class> over OPC UA.json" (13–18). Each is the same pipeline,
// partner read node → pdm-retrofit (a register or tag map for every signal of the class) →
// pdm-normalise → pdm-twin → debug, with a pdm-asset nameplate and the global-config node whose
// `modules` makes Node-RED 4.1 offer to install node-red-contrib-modbus or -opcua on import.
// The core-only versions (01–06) are hand-made and left alone.
//
//   node scripts/build-class-examples.js           write the 12 examples
//   node scripts/build-class-examples.js --check   exit 1 if they are not up to date
//
// No dependencies and no network, so it runs in any offline build.
'use strict';
const fs = require('fs');
const path = require('path');

const to = path.join(path.resolve(__dirname, '..'), 'examples', 'asset-classes');
const MODBUS = { module: 'node-red-contrib-modbus', version: '5.23.3' };
const OPCUA = { module: 'node-red-contrib-opcua', version: '0.2.354' };

// ---- how each signal is wired -------------------------------------------------------------------

// Modbus: what a PLC or retrofit I/O module typically exposes. Floats from meters and drives are
// word-swapped (CDAB) as on Modicon/Schneider PLCs and most I/O modules; sensors with their own
// Modbus output report scaled integers; a 4–20 mA transmitter on an analog input card is read in µA.
const FLOAT = (unit) => ({ type: 'float32', order: 'CDAB', scale: 1, unit });
const TENTHS = (unit) => ({ type: 'int16', order: 'ABCD', scale: 0.1, unit });
const MICROAMPS = { type: 'uint16', order: 'ABCD', scale: 0.001, unit: 'mA' };
const MODBUS_SIGNALS = {
  vibration_velocity: { type: 'uint16', order: 'ABCD', scale: 0.01, unit: 'mm/s' }, // mm/s × 100
  vibration_acceleration: { type: 'uint16', order: 'ABCD', scale: 0.001, unit: 'g' }, // g × 1000
  bearing_temperature: TENTHS('°C'),
  winding_temperature: TENTHS('°C'),
  ambient_temperature: TENTHS('°C'),
  oil_temperature: TENTHS('°C'),
  discharge_temperature: TENTHS('°C'),
  current: FLOAT('A'),
  voltage: FLOAT('V'),
  power: FLOAT('kW'),
  speed: { type: 'uint16', order: 'ABCD', scale: 1, unit: 'rpm' },
  belt_speed: { type: 'uint16', order: 'ABCD', scale: 0.1, unit: 'rpm' }, // rpm × 10 from a pulse counter
  discharge_pressure: FLOAT('bar'),
  flow: FLOAT('m³/h'),
  suction_pressure: MICROAMPS,
  filter_differential_pressure: MICROAMPS,
};

// OPC UA: tag names as a PLC program names them; values already in engineering units.
const OPCUA_TAGS = {
  vibration_velocity: { tag: 'VibrationVelocity', unit: 'mm/s' },
  vibration_acceleration: { tag: 'VibrationAcceleration', unit: 'g' },
  bearing_temperature: { tag: 'BearingTemperature', unit: '°C' },
  winding_temperature: { tag: 'WindingTemperature', unit: '°C' },
  ambient_temperature: { tag: 'AmbientTemperature', unit: '°C' },
  oil_temperature: { tag: 'OilTemperature', unit: '°C' },
  discharge_temperature: { tag: 'DischargeTemperature', unit: '°C' },
  current: { tag: 'MotorCurrent', unit: 'A', scale: 0.1 }, // an INT tag in 0.1 A
  voltage: { tag: 'Voltage', unit: 'V' },
  power: { tag: 'Power', unit: 'kW' },
  speed: { tag: 'Speed', unit: 'rpm' },
  belt_speed: { tag: 'TailPulleySpeed', unit: 'rpm' },
  suction_pressure: { tag: 'SuctionPressure', unit: 'bar' },
  discharge_pressure: { tag: 'DischargePressure', unit: 'bar' },
  flow: { tag: 'Flow', unit: 'm³/h' },
  filter_differential_pressure: { tag: 'FilterDifferentialPressure', unit: 'mbar' },
};

// ---- the six classes ----------------------------------------------------------------------------

// Signals in the order of nodes/lib/assets/classes.ts; nameplates as in the core-only examples
// (sister machines, so the ids differ: two pdm-asset nodes must not declare the same asset).
const CLASSES = [
  {
    id: 'motor', label: 'Motor', name: 'Mixer drive motor', asset: 'M-30', area: 'batching', line: 'mixer-2',
    nameplate: { ratedCurrentA: '55', ratedPowerKW: '30', ratedSpeedRpm: '1475', ratedVoltageV: '400' },
    signals: ['vibration_velocity', 'vibration_acceleration', 'bearing_temperature', 'winding_temperature', 'ambient_temperature', 'current', 'voltage', 'speed', 'power'],
    zonePreset: 'iso10816-3/group2-rigid', limits: '',
  },
  {
    id: 'pump', label: 'Pump', name: 'Cooling water pump', asset: 'P-20', area: 'utilities', line: 'cooling-water',
    nameplate: { ratedCurrentA: '21', ratedPowerKW: '11', ratedSpeedRpm: '2940', ratedVoltageV: '400' },
    signals: ['vibration_velocity', 'vibration_acceleration', 'bearing_temperature', 'current', 'speed', 'power', 'suction_pressure', 'discharge_pressure', 'flow'],
    zonePreset: 'iso10816-3/group2-rigid', limits: '{"vibration_acceleration": {"warning": 10, "action": 20}}',
    loops: { suction_pressure: { min: -1, max: 9, unit: 'bar', what: 'a -1…9 bar(g) suction transmitter' } },
  },
  {
    id: 'compressor', label: 'Compressor', name: 'Screw compressor', asset: 'C-40', area: 'utilities', line: 'compressed-air',
    nameplate: { ratedCurrentA: '66', ratedPowerKW: '37', ratedSpeedRpm: '2960', ratedVoltageV: '400' },
    signals: ['vibration_velocity', 'vibration_acceleration', 'bearing_temperature', 'current', 'speed', 'power', 'discharge_pressure', 'discharge_temperature', 'filter_differential_pressure'],
    zonePreset: 'iso10816-3/group2-flexible', limits: '{"discharge_temperature": {"warning": 100, "action": 110}}',
    loops: { filter_differential_pressure: { min: 0, max: 250, unit: 'mbar', what: 'a 0…250 mbar intake-filter Δp transmitter' } },
  },
  {
    id: 'fan', label: 'Fan', name: 'Paint booth exhaust fan', asset: 'F-50', area: 'finishing', line: 'paint-booth-1',
    nameplate: { ratedCurrentA: '14.5', ratedPowerKW: '7.5', ratedSpeedRpm: '1465', ratedVoltageV: '400' },
    signals: ['vibration_velocity', 'vibration_acceleration', 'bearing_temperature', 'current', 'speed', 'power', 'filter_differential_pressure'],
    zonePreset: 'iso10816-1/class-I', limits: '{"filter_differential_pressure": {"warning": 0.0025, "action": 0.0035}}',
    loops: { filter_differential_pressure: { min: 0, max: 500, unit: 'Pa', what: 'a 0…500 Pa filter-bank Δp transmitter' } },
  },
  {
    id: 'conveyor', label: 'Conveyor', name: 'Packing line infeed conveyor', asset: 'CV-60', area: 'packing', line: 'line-3',
    nameplate: { ratedCurrentA: '11.2', ratedPowerKW: '5.5', ratedSpeedRpm: '1445', ratedVoltageV: '400' },
    signals: ['vibration_velocity', 'vibration_acceleration', 'bearing_temperature', 'current', 'speed', 'belt_speed', 'power'],
    zonePreset: 'iso10816-1/class-I', limits: '',
  },
  {
    id: 'gearbox', label: 'Gearbox', name: 'Mixer gearbox', asset: 'G-70', area: 'batching', line: 'mixer-2',
    nameplate: { ratedCurrentA: '41', ratedPowerKW: '22', ratedSpeedRpm: '1470', ratedVoltageV: '400' },
    signals: ['vibration_velocity', 'vibration_acceleration', 'bearing_temperature', 'oil_temperature', 'speed', 'current', 'power'],
    zonePreset: 'iso10816-1/class-II', limits: '{"oil_temperature": {"warning": 85, "action": 95}}',
  },
];

const WORDS = { uint16: 1, int16: 1, float32: 2 };
const START_REGISTER = 100; // a PLC's Modbus block typically starts on a round address, not 0

/** Unique, stable ids: a5d + class (1–6) + variant (1 Modbus, 2 OPC UA) + serial. */
function idMaker(classIndex, variant) {
  let serial = 0;
  return () => `a5d${classIndex + 1}${variant}${(++serial).toString(16).padStart(11, '0')}`;
}

function registerMap(cls) {
  let offset = 0;
  return cls.signals.map((signal) => {
    const spec = MODBUS_SIGNALS[signal];
    if (!spec) throw new Error(`${cls.id}: no Modbus wiring for ${signal}`);
    const entry = { signal, offset, type: spec.type, order: spec.order, scale: spec.scale, bias: 0, unit: spec.unit };
    offset += WORDS[spec.type];
    return entry;
  });
}

function tagMap(cls, prefix) {
  return cls.signals.map((signal) => {
    const spec = OPCUA_TAGS[signal];
    if (!spec) throw new Error(`${cls.id}: no OPC UA tag for ${signal}`);
    const entry = { address: `ns=2;s=${prefix}.${spec.tag}`, signal, unit: spec.unit };
    if (spec.scale !== undefined) entry.scale = spec.scale;
    return entry;
  });
}

function loopScaling(cls) {
  return Object.entries(cls.loops || {}).map(([signal, l]) => ({ signal, kind: 'loop', min: l.min, max: l.max, currentUnit: 'mA', unit: l.unit }));
}

// ---- the nodes both variants share ---------------------------------------------------------------

function retrofitNode(id, cls, assetId, fields, x, y, wires) {
  return {
    id, type: 'pdm-retrofit', name: `${cls.id} ${fields.registers.length ? 'registers' : 'tags'}`, assetId, unmapped: 'reject',
    registers: fields.registers, tags: fields.tags, scaling: fields.scaling,
    sampleRate: '', accelUnit: 'm/s²', bearingN: '', bearingd: '', bearingD: '', contactAngle: '', rpm: '',
    zonePreset: cls.zonePreset, x, y, wires,
  };
}

function tail(cls, assetId, assetName, id, x0, y) {
  const normalise = id();
  const twin = id();
  const asset = id();
  const debug = { snapshot: id(), windows: id(), states: id(), rejects: id() };
  const dx = 180;
  const debugNode = (nid, name, complete, targetType, dy, status) => ({
    id: nid, type: 'debug', name, active: true, tosidebar: true, console: false, tostatus: !!status, complete, targetType,
    statusVal: status || '', statusType: status ? 'jsonata' : 'auto', x: x0 + 2 * dx + 60, y: y + dy, wires: [],
  });
  return {
    normalise,
    rejects: debug.rejects,
    nodes: [
      {
        id: normalise, type: 'pdm-normalise', name: '', property: 'payload', root: 'pdm', site: '', area: '', line: '', ranges: '',
        stuckCount: '50', dedupe: '10000', maxFuture: '600', x: x0, y, wires: [[twin], [debug.rejects]],
      },
      {
        id: twin, type: 'pdm-twin', name: '', root: 'pdm', windowSec: '60', staleFactor: '5', snapshotSec: '1', unknownAssets: 'reject',
        defaultClass: cls.id, fleet: '', store: '', persistSec: '5', x: x0 + dx, y,
        wires: [[debug.snapshot], [debug.windows], [debug.states], [debug.rejects]],
      },
      debugNode(debug.snapshot, 'snapshot', 'payload', 'msg', -60, 'payload.state.current & " · " & payload.health.status'),
      debugNode(debug.windows, 'feature windows', 'payload', 'msg', -20),
      debugNode(debug.states, 'state changes', 'payload', 'msg', 20),
      debugNode(debug.rejects, 'rejects', 'reject', 'msg', 60),
      {
        id: asset, type: 'pdm-asset', name: assetName, assetId, assetClass: cls.id, site: 'plant1', area: cls.area, line: cls.line,
        ...cls.nameplate, sensors: cls.signals.join(', '), limits: cls.limits, thresholds: '',
      },
    ],
  };
}

function globalConfig(id, partner) {
  return { id, type: 'global-config', env: [], modules: { [partner.module]: partner.version } };
}

function describeMap(entries) {
  return entries.map((e) => {
    const scale = e.scale === 1 ? '' : ` × ${e.scale}`;
    const order = e.type === 'float32' ? ` ${e.order}` : '';
    return `| ${START_REGISTER + e.offset} | ${e.signal} | ${e.type}${order}${scale} | ${e.unit} |`;
  }).join('\n');
}

/** "g → m/s², mbar → bar": what pdm-normalise converts among the units a map delivers. */
function conversions(units) {
  const canonical = { g: 'm/s²', mbar: 'bar', Pa: 'bar' };
  return [...new Set(units)].filter((u) => canonical[u]).map((u) => `${u} → ${canonical[u]}`).join(', ');
}

function loopText(cls) {
  return Object.entries(cls.loops || {}).map(([signal, l]) => ` **${signal}** comes from ${l.what} on the analog input card (read in µA): the 4–20 mA scaling row turns it into ${l.unit}, and a wire break becomes a \`bad\` reading.`).join('');
}

// ---- Modbus ----------------------------------------------------------------------------------------

function modbusExample(cls, index, coreName) {
  const id = idMaker(index, 1);
  const assetId = `${cls.asset}2`;
  const assetName = `${cls.name} (Modbus)`;
  const [comment, read, retrofit, client] = [id(), id(), id(), id()];
  const registers = registerMap(cls);
  const quantity = registers.reduce((n, e) => Math.max(n, e.offset + WORDS[e.type]), 0);
  const t = tail(cls, assetId, `${assetName}`, id, 540, 140);
  const info =
    `A **modbus-read** node (node-red-contrib-modbus) polls ${quantity} holding registers (function code 3) from address ${START_REGISTER} of the PLC or retrofit I/O module beside ${cls.id} **${assetId}** every second. ` +
    `**retrofit** decodes every signal of the *${cls.id}* class with its register map; **normalise** converts to canonical units (${conversions(registers.map((e) => e.unit).concat(loopScaling(cls).map((l) => l.unit)))}) and stamps quality; **twin** keeps the state and health of the asset declared in the **asset** node.\n\n` +
    `| register | signal | type | unit |\n|---|---|---|---|\n${describeMap(registers)}\n\n` +
    `Offsets in the map count from the first register read (${START_REGISTER}, which 1-based manuals call 4${String(START_REGISTER + 1).padStart(4, '0')}). Floats are word-swapped (\`CDAB\`, as Modicon/Schneider PLCs and most I/O modules send them; pick \`ABCD\` for big-endian devices such as Siemens S7). ` +
    `Vibration comes as mm/s × 100 and g × 1000, temperatures as 0.1 °C.${loopText(cls)}\n\n` +
    `**To adapt it**: the PLC's IP address and port in the **modbus-client** configuration node, the unit id, start address and quantity in **modbus-read**, offsets, types, word order and scale in the register map of **retrofit**, and the nameplate in **asset**.\n\n` +
    `Node-RED 4.1 offers to install node-red-contrib-modbus when you import this flow; \`${coreName}\` drives the same twin from inject nodes without it.`;
  return [
    { id: comment, type: 'comment', name: `${cls.label} over Modbus: PLC registers → twin`, info, x: 240, y: 40, wires: [] },
    {
      id: read, type: 'modbus-read', name: `${assetId} poll`, topic: '', showStatusActivities: false, logIOActivities: false, showErrors: false,
      unitid: '1', dataType: 'HoldingRegister', adr: String(START_REGISTER), quantity: String(quantity), rate: '1', rateUnit: 's',
      delayOnStart: false, startDelayTime: '', server: client, useIOFile: false, ioFile: '', useIOForPayload: false, emptyMsgOnFail: true,
      x: 160, y: 140, wires: [[retrofit], []],
    },
    retrofitNode(retrofit, cls, assetId, { registers, tags: [], scaling: loopScaling(cls) }, 360, 140, [[t.normalise], [t.rejects]]),
    ...t.nodes,
    {
      id: client, type: 'modbus-client', name: `${cls.id} PLC`, clienttype: 'tcp', bufferCommands: true, stateLogEnabled: false,
      queueLogEnabled: false, failureLogEnabled: false, tcpHost: '127.0.0.1', tcpPort: '502', tcpType: 'DEFAULT', serialPort: '/dev/ttyUSB',
      serialType: 'RTU-BUFFERD', serialBaudrate: '9600', serialDatabits: '8', serialStopbits: '1', serialParity: 'none',
      serialConnectionDelay: '100', serialAsciiResponseStartDelimiter: '0x3A', unit_id: '1', commandDelay: '1', clientTimeout: '1000',
      reconnectOnTimeout: true, reconnectTimeout: '2000', parallelUnitIdsAllowed: true,
    },
    globalConfig(id(), MODBUS),
  ];
}

// ---- OPC UA ----------------------------------------------------------------------------------------

function opcuaExample(cls, index, coreName) {
  const id = idMaker(index, 2);
  const assetId = `${cls.asset}3`;
  const prefix = assetId.replace(/-/g, '');
  const assetName = `${cls.name} (OPC UA)`;
  const [comment, subscribe, client, retrofit, endpoint] = [id(), id(), id(), id(), id()];
  const tags = tagMap(cls, prefix);
  // Tags keep their own engineering unit: the OPC UA variant reads the transmitter's value, not its loop current.
  for (const tag of tags) if (cls.loops && cls.loops[tag.signal]) tag.unit = cls.loops[tag.signal].unit;
  const t = tail(cls, assetId, assetName, id, 720, 140);
  const info =
    `An **OpcUa-Client** (node-red-contrib-opcua) subscribes to ${tags.length} tags of ${cls.id} **${assetId}** (the *subscribe* inject runs once at start, one item per tag, sampled every second). ` +
    `**retrofit** maps each NodeId to a signal of the *${cls.id}* class with its tag map (the OPC UA status code sets the quality, the source timestamp \`ts\`); **normalise** converts to canonical units (${conversions(tags.map((x) => x.unit))}) and stamps quality; **twin** keeps the state and health of the asset declared in the **asset** node.\n\n` +
    `| NodeId | signal | unit | scale |\n|---|---|---|---|\n${tags.map((x) => `| \`${x.address}\` | ${x.signal} | ${x.unit} | ${x.scale ?? 1} |`).join('\n')}\n\n` +
    `\`MotorCurrent\` is an INT tag in 0.1 A, so its row has scale 0.1; the vibration sensor reports acceleration in g.\n\n` +
    `**To adapt it**: the server's endpoint URL and security in the **OpcUa-Endpoint** configuration node, the NodeIds in the *subscribe* inject and in the tag map of **retrofit** (the namespace index and the tag names of your PLC or gateway), scale where a tag is not in engineering units, and the nameplate in **asset**.\n\n` +
    `Node-RED 4.1 offers to install node-red-contrib-opcua when you import this flow; \`${coreName}\` drives the same twin from inject nodes without it.`;
  return [
    { id: comment, type: 'comment', name: `${cls.label} over OPC UA: PLC tags → twin`, info, x: 240, y: 40, wires: [] },
    {
      id: subscribe, type: 'inject', name: 'subscribe', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], repeat: '', crontab: '',
      once: true, onceDelay: '2', topic: 'multiple', payload: JSON.stringify(tags.map((x) => ({ nodeId: x.address }))), payloadType: 'json',
      x: 130, y: 140, wires: [[client]],
    },
    {
      id: client, type: 'OpcUa-Client', name: `${cls.id} PLC`, endpoint, action: 'subscribe', deadbandtype: 'a', deadbandvalue: 1, time: 1,
      timeUnit: 's', certificate: 'n', localfile: '', localkeyfile: '', securitymode: 'None', securitypolicy: 'None', useTransport: false,
      maxChunkCount: 1, maxMessageSize: 8192, receiveBufferSize: 8192, sendBufferSize: 8192, setstatusandtime: false,
      keepsessionalive: false, applicationName: '', applicationUri: '', x: 320, y: 140, wires: [[retrofit], [], []],
    },
    retrofitNode(retrofit, cls, assetId, { registers: [], tags, scaling: [] }, 520, 140, [[t.normalise], [t.rejects]]),
    ...t.nodes,
    {
      id: endpoint, type: 'OpcUa-Endpoint', name: `${cls.id} PLC`, endpoint: 'opc.tcp://127.0.0.1:4840', secpol: 'None', secmode: 'None',
      none: true, login: false, usercert: false, usercertificate: '', userprivatekey: '',
    },
    globalConfig(id(), OPCUA),
  ];
}

// ---- files -------------------------------------------------------------------------------------------

const VARIANT = / over (Modbus|OPC UA)\.json$/;

function build() {
  const wanted = new Map();
  CLASSES.forEach((cls, i) => {
    const core = `${String(i + 1).padStart(2, '0')} - ${cls.label}`;
    wanted.set(`${String(7 + i).padStart(2, '0')} - ${cls.label} over Modbus.json`, modbusExample(cls, i, core));
    wanted.set(`${String(13 + i).padStart(2, '0')} - ${cls.label} over OPC UA.json`, opcuaExample(cls, i, core));
  });
  for (const [name, flow] of wanted) wanted.set(name, `${JSON.stringify(flow, null, 2)}\n`);
  return wanted;
}

const wanted = build();
const existing = fs.existsSync(to) ? fs.readdirSync(to).filter((f) => VARIANT.test(f)) : [];
if (process.argv.includes('--check')) {
  const stale = [...wanted].filter(([name, text]) => !existing.includes(name) || fs.readFileSync(path.join(to, name), 'utf8') !== text).map(([n]) => n);
  const extra = existing.filter((name) => !wanted.has(name));
  if (stale.length || extra.length) {
    console.error(`examples/asset-classes is out of date (run node scripts/build-class-examples.js): ${[...stale, ...extra].join(', ')}`);
    process.exit(1);
  }
  console.log(`examples/asset-classes: ${wanted.size} partner variants up to date`);
} else {
  fs.mkdirSync(to, { recursive: true });
  for (const name of existing) if (!wanted.has(name)) fs.rmSync(path.join(to, name));
  for (const [name, text] of wanted) fs.writeFileSync(path.join(to, name), text);
  // Silent on success: `npm pack --json` runs the build through `prepare` and parses stdout.
}
