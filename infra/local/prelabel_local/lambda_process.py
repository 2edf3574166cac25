"""One Lambda invocation in a process of its own (see LambdaRunner.isolate).

    python -m prelabel_local.lambda_process <module>:<function>   < event.json

Prints the handler's JSON result on the last line of stdout and exits 0; on an exception prints
Lambda's error document and exits 1. If the process dies (killed, out of memory, `os._exit`),
the runner reports it as Lambda does: a `Runtime.ExitError`.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
import uuid
from types import SimpleNamespace


def main(argv: list[str]) -> int:
    module_name, _, function = argv[0].partition(":")
    handler = getattr(importlib.import_module(module_name), function or "handler")
    event = json.loads(sys.stdin.read() or "{}")
    context = SimpleNamespace(
        function_name=argv[1] if len(argv) > 1 else "isolated",
        memory_limit_in_mb=1024,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:isolated",
        aws_request_id=str(uuid.uuid4()),
        get_remaining_time_in_millis=lambda: 300_000,
    )
    try:
        result = handler(event, context)
    except Exception as exc:
        error = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_exception(exc)[-5:],
        }
        print("\n" + json.dumps(error), flush=True)
        return 1
    print("\n" + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
