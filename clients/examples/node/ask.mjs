// Ask vet-analytics a question from Node, then a follow-up in the same
// session, with @grpc/grpc-js and @grpc/proto-loader (the .proto files are
// read at run time: no generated code). Ask is server-streaming: each
// AskEvent is printed as it arrives. A last question on a session that does
// not exist shows the error's machine-readable reason (SESSION_NOT_FOUND),
// decoded from the google.rpc.Status in the grpc-status-details-bin trailer.
//
//   npm ci
//   node ask.mjs --addr=127.0.0.1:50051 [--practice=demo] [--api_key=demo-key]
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const { values: args } = parseArgs({
  options: {
    addr: { type: 'string', default: '127.0.0.1:50051' },
    practice: { type: 'string', default: 'demo' },
    api_key: { type: 'string', default: 'demo-key' },
    proto_dir: { type: 'string',
                 default: join(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'proto') },
  },
});

// oneofs: true adds a virtual field naming the oneof member that is set
// (event.event === 'finalAnswer'); longs as strings keep int64 exact.
const definition = protoLoader.loadSync('vetanalytics/v1/analytics.proto', {
  includeDirs: [args.proto_dir], longs: String, enums: String, defaults: true, oneofs: true,
});
const { AnalyticsService } = grpc.loadPackageDefinition(definition).vetanalytics.v1;
const client = new AnalyticsService(args.addr, grpc.credentials.createInsecure());

// Every call carries the practice's key.
const metadata = new grpc.Metadata();
metadata.set('x-api-key', args.api_key);

function printEvent(e) {
  switch (e.event) {
    case 'sessionStarted': {
      const s = e.sessionStarted;
      console.log(`[${e.seq}] session ${s.sessionId} turn ${s.turn}${s.resumed ? ' (resumed)' : ''}`);
      break;
    }
    case 'budgetCheck':
      console.log(`[${e.seq}] budget: allowed=${e.budgetCheck.allowed} model=${e.budgetCheck.model}`);
      break;
    case 'codeGenerated':
      console.log(`[${e.seq}] code (${e.codeGenerated.generator}): ${e.codeGenerated.summary}`);
      break;
    case 'executionOutput':
      console.log(`[${e.seq}] output: ${e.executionOutput.text.trimEnd()}`);
      break;
    case 'artifact':
      console.log(`[${e.seq}] artifact ${e.artifact.name} (${e.artifact.data.length} bytes)`);
      break;
    case 'finalAnswer':
      console.log(`[${e.seq}] answer: ${e.finalAnswer.text}`);
      break;
    default:
      console.log(`[${e.seq}] ${e.event}`);
  }
}

// Resolves with the session id once the stream ends OK; rejects with the
// gRPC error (code, details, metadata) otherwise.
function ask(question, sessionId = '') {
  console.log(`> ${question}`);
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 60_000);
    const call = client.Ask({ practiceId: args.practice, question, sessionId }, metadata,
                            { deadline });
    call.on('data', (event) => {
      printEvent(event);
      if (event.sessionStarted) sessionId = event.sessionStarted.sessionId;
    });
    call.on('error', reject);
    call.on('end', () => resolve(sessionId));
  });
}

// The ErrorInfo reason of a gRPC error, from its google.rpc.Status details.
const rpcTypes = protobuf.loadSync([join(args.proto_dir, 'google/rpc/status.proto'),
                                    join(args.proto_dir, 'google/rpc/error_details.proto')]);
function errorReason(err) {
  const [bytes] = err.metadata?.get('grpc-status-details-bin') ?? [];
  if (!bytes) return '';
  const status = rpcTypes.lookupType('google.rpc.Status').decode(bytes);
  for (const any of status.details) {
    // type_url is "type.googleapis.com/google.rpc.ErrorInfo".
    if (any.type_url.endsWith('/google.rpc.ErrorInfo')) {
      return rpcTypes.lookupType('google.rpc.ErrorInfo').decode(any.value).reason;
    }
  }
  return '';
}

try {
  const session = await ask('What was our revenue by month last quarter?');
  await ask('and the quarter before?', session);
  try {
    await ask('How many new clients this year?', 'no-such-session');
  } catch (err) {
    console.log(`error: ${grpc.status[err.code]}: ${err.details}`);
    console.log(`  reason: ${errorReason(err)}`);
  }
} catch (err) {
  console.error(`error: ${grpc.status[err.code] ?? ''}: ${err.details ?? err.message}`);
  process.exitCode = 1;
} finally {
  client.close();
}
