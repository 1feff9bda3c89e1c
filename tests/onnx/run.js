// Runs ONNX files through onnxruntime and compares with the outputs Neurona computed.
// Usage: node run.js MANIFEST. Each manifest line: "name model.onnx input.bin output.bin d0,d1,…"
// (float32 little-endian files; dims of the input). Prints "name max_rel_error" per case; exits
// 1 when a case fails to load or run, or exceeds |a − b| ≤ 1e-5 · max(1, |b|).
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

function floats(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

async function main() {
  const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.trim());
  let failed = false;
  for (const line of lines) {
    const [name, model, input, output, dims] = line.split(' ');
    try {
      const session = await ort.InferenceSession.create(model);
      const x = new ort.Tensor('float32', floats(input), dims.split(',').map(Number));
      const result = await session.run({ input: x });
      const got = result.output.data;
      const want = floats(output);
      let worst = 0;
      if (got.length !== want.length) throw new Error(`output has ${got.length} values, Neurona ${want.length}`);
      for (let i = 0; i < want.length; ++i) {
        const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
        if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
      }
      console.log(`${name} ${worst} ${result.output.dims.join(',')}`);
      if (!(worst <= 1e-5)) failed = true;
    } catch (err) {
      console.log(`${name} ERROR ${String(err.message || err).split('\n')[0]}`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}
main();
