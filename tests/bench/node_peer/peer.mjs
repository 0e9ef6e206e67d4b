// peer.mjs — what a user would write instead of nightshift: read the job
// file, send each body with the official openai SDK, CONC at a time
// (p-queue), and write each result as a JSON line. run_overhead.sh runs it
// beside nightshift against the same mock, the same jobs, the same
// concurrency, so the two are measured on the same machine at the same time.
//   usage: node peer.mjs BASE_URL JOBS.jsonl CONC OUT.jsonl
// Prints one line: "node_peer jobs N ok N failed N wall_s S rps R".
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import OpenAI from "openai";
import PQueue from "p-queue";

const [base, file, concArg, outFile] = process.argv.slice(2);
const conc = Number(concArg);
if (!base || !file || !outFile || !(conc > 0)) {
  console.error("usage: node peer.mjs BASE_URL JOBS.jsonl CONC OUT.jsonl");
  process.exit(2);
}

// the model the jobs name is a route in nightshift's config; the mock's is m1
const client = new OpenAI({ baseURL: base, apiKey: "bench", maxRetries: 2 });
const queue = new PQueue({ concurrency: conc });
const out = createWriteStream(outFile);
let ok = 0, failed = 0, n = 0;
const t0 = process.hrtime.bigint();

const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
for await (const line of lines) {
  if (!line) continue;
  const job = JSON.parse(line);
  const body = { ...job.body, model: "m1" };
  n++;
  // keep memory bounded as a careful user would: wait while the queue is long
  if (queue.size > conc * 4) await queue.onSizeLessThan(conc * 2);
  queue.add(async () => {
    try {
      const r = await client.chat.completions.create(body);
      out.write(JSON.stringify({ custom_id: job.custom_id, response: r }) + "\n");
      ok++;
    } catch (e) {
      out.write(JSON.stringify({ custom_id: job.custom_id, error: String(e) }) + "\n");
      failed++;
    }
  });
}
await queue.onIdle();
await new Promise((res) => out.end(res));
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`node_peer jobs ${n} ok ${ok} failed ${failed} wall_s ${wall.toFixed(3)} rps ${(ok / wall).toFixed(1)}`);
process.exit(failed ? 1 : 0);
