"""Lambda invocations of the local stack run the real handler files of template.yaml.

moto's Lambda would start Docker containers; here each invocation that reaches moto (from the
Step Functions interpreter, or from boto3) calls the function's own `functions/<name>/app.py`
handler in this process, with the event and a context, and answers as Lambda does: the
handler's JSON, or an `Unhandled` function error with errorType and errorMessage.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from moto.awslambda.models import LambdaBackend

Handler = Callable[[dict[str, Any], Any], Any]

ACCOUNT = "123456789012"
REGION = "us-east-1"


def function_arn(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


def load_handler(root: Path, code_uri: str, handler: str) -> Handler:
    """Import `<code_uri>/<module>.py` by path, as the Lambda runtime would, and get the handler."""
    module_name, func = handler.rsplit(".", 1)
    path = root / code_uri / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"lambda_{Path(code_uri).name}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn: Handler = getattr(module, func)
    return fn


class LambdaRunner:
    """Registry of the functions the local stack runs; installed into moto's Lambda backend."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.invocations: dict[str, int] = {}
        # Function name -> "module:function" run in a child process per invocation.
        self.isolated: dict[str, str] = {}
        self._lock = threading.Lock()
        self._original = LambdaBackend.invoke

    def register(self, name: str, handler: Handler) -> None:
        self.handlers[name] = handler

    def isolate(self, name: str, target: str | None) -> None:
        """Run `name`'s invocations each in a process of its own running `target`
        ("module:function"), so that a handler can die the way a Lambda process dies;
        None goes back to running in this process."""
        if target is None:
            self.isolated.pop(name, None)
        else:
            self.isolated[name] = target

    def install(self) -> None:
        # What runs now (moto's, or another runner's in the same process) is what uninstall
        # puts back and what this one hands unknown functions to.
        self._original = LambdaBackend.invoke
        runner = self

        def invoke(
            self: LambdaBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> str | bytes | None:
            name = (
                function_name.rsplit(":", 1)[-1] if ":function:" in function_name else function_name
            )
            if name not in runner.handlers:
                return runner._original(
                    self, function_name, qualifier, body, headers, response_headers
                )
            return runner.run(name, body, response_headers)

        LambdaBackend.invoke = invoke  # type: ignore[method-assign]

    def uninstall(self) -> None:
        LambdaBackend.invoke = self._original  # type: ignore[method-assign]

    def run(self, name: str, body: Any, response_headers: dict[str, str]) -> bytes:
        with self._lock:
            self.invocations[name] = self.invocations.get(name, 0) + 1
        raw = body.decode() if isinstance(body, bytes) else (body or "{}")
        context = SimpleNamespace(
            function_name=name,
            memory_limit_in_mb=1024,
            invoked_function_arn=function_arn(name),
            aws_request_id=str(uuid.uuid4()),
            get_remaining_time_in_millis=lambda: 300_000,
        )
        event = json.loads(raw or "{}")
        if isinstance(event, str):
            # moto's Distributed Map hands S3 JSON items to Lambda as a JSON string of the item.
            event = json.loads(event)
        if name in self.isolated:
            return self._run_child(name, event, response_headers)
        try:
            result = self.handlers[name](event, context)
            payload = json.dumps(result).encode()
        except Exception as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = json.dumps(
                {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_exception(exc)[-5:],
                }
            ).encode()
        response_headers["Content-Length"] = str(len(payload))
        return payload

    def _run_child(self, name: str, event: Any, response_headers: dict[str, str]) -> bytes:
        done = subprocess.run(
            [sys.executable, "-m", "prelabel_local.lambda_process", self.isolated[name], name],
            input=json.dumps(event),
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=300,
            check=False,
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode == 0 and lines:
            payload = lines[-1].encode()
        else:
            response_headers["x-amz-function-error"] = "Unhandled"
            if done.returncode == 1 and lines:
                payload = lines[-1].encode()
            else:
                # How Lambda reports a process that died without answering.
                payload = json.dumps(
                    {
                        "errorType": "Runtime.ExitError",
                        "errorMessage": f"RequestId: local Error: Runtime exited with error: "
                        f"exit status {done.returncode}",
                    }
                ).encode()
        response_headers["Content-Length"] = str(len(payload))
        return payload
