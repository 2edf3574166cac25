"""Lambda invocations of the local stack run the real handler files of template.yaml.

moto's Lambda would start Docker containers; here each invocation that reaches moto (from the
Step Functions interpreter, or from boto3) calls the function's own `functions/<name>/app.py`
handler in this process, with the event and a context, and answers as Lambda does: the
handler's JSON, or an `Unhandled` function error with errorType and errorMessage.
"""

from __future__ import annotations

import importlib.util
import json
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
        self._lock = threading.Lock()
        self._original = LambdaBackend.invoke

    def register(self, name: str, handler: Handler) -> None:
        self.handlers[name] = handler

    def install(self) -> None:
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
