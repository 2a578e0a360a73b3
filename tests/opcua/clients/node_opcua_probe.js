// node-opcua (JavaScript, an OPC UA SDK sharing no code with our asyncua server) reading as an HMI does.
//
//   NODE_PATH=.peers/nodeopcua/node_modules node node_opcua_probe.js URL 'STEPS_JSON'
//
// prints one JSON line per step:
//   {"op": "variable", "node": "ns=2;s=..."}  value, status, source timestamp, EngineeringUnits UnitId,
//                                            EURange, Historizing, HistoryRead access bit
//   {"op": "history", "node": "...", "start": ISO, "end": ISO}   status and samples of a ReadRaw
"use strict";
const {
  OPCUAClient, AttributeIds, MessageSecurityMode, SecurityPolicy, AccessLevelFlag, makeBrowsePath,
} = require("node-opcua-client");

function plain(v) {
  return typeof v === "number" && !Number.isFinite(v) ? String(v).replace("Infinity", "inf") : v;
}

async function child(session, nodeId, name) {
  const result = await session.translateBrowsePath(makeBrowsePath(nodeId, `/0:${name}`));
  const target = result.targets[0].targetId;
  return (await session.read({ nodeId: target, attributeId: AttributeIds.Value })).value.value;
}

async function variable(session, nodeId) {
  const [value, historizing, access] = await session.read([
    { nodeId, attributeId: AttributeIds.Value },
    { nodeId, attributeId: AttributeIds.Historizing },
    { nodeId, attributeId: AttributeIds.AccessLevel },
  ]);
  const eu = await child(session, nodeId, "EngineeringUnits");
  const range = await child(session, nodeId, "EURange");
  return {
    value: value.value.value === null ? null : plain(value.value.value),
    status: value.statusCode.name,
    source_timestamp: value.sourceTimestamp ? value.sourceTimestamp.toISOString() : null,
    unit_id: eu.unitId,
    unit: eu.displayName.text,
    eu_range: [plain(range.low), plain(range.high)],
    historizing: historizing.value.value,
    history_read: Boolean(access.value.value & AccessLevelFlag.HistoryRead),
  };
}

async function history(session, nodeId, start, end) {
  const result = await session.readHistoryValue({ nodeId }, new Date(start), new Date(end));
  const values = (result.historyData && result.historyData.dataValues) || [];
  return {
    status: result.statusCode.name,
    samples: values.map((dv) => [dv.sourceTimestamp.toISOString(), plain(dv.value.value)]),
  };
}

(async () => {
  const [url, stepsJson] = process.argv.slice(2);
  const client = OPCUAClient.create({
    endpointMustExist: false,
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    connectionStrategy: { maxRetry: 0 },
  });
  await client.connect(url);
  const session = await client.createSession();
  try {
    for (const step of JSON.parse(stepsJson)) {
      let result;
      if (step.op === "variable") result = await variable(session, step.node);
      else if (step.op === "history") result = await history(session, step.node, step.start, step.end);
      else throw new Error(`unknown op ${step.op}`);
      process.stdout.write(JSON.stringify({ step, ...result }) + "\n");
    }
  } finally {
    await session.close();
    await client.disconnect();
  }
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(3);
});
