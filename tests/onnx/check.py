# Checks ONNX files with the ONNX checker (full_check: shape inference too).
# Usage: /usr/bin/python3 check.py FILE...; prints "ok FILE" or "FAIL FILE: reason", exits 1 on a failure.
import sys

import onnx

failed = False
for f in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(f), full_check=True)
        print("ok", f)
    except Exception as e:  # noqa: BLE001 - report every file
        print("FAIL", f + ":", str(e).splitlines()[0] if str(e) else type(e).__name__)
        failed = True
sys.exit(1 if failed else 0)
