"""Local endpoint: the SageMaker container contract plus the SageMaker Runtime API route.

python -m prelabel_detector.server --port 8080            # default SSD-MobileNet-v2-COCO
python -m prelabel_detector.server --models-dir DIR       # + TargetModel artifacts from DIR
python -m prelabel_detector.server --models-s3 s3://bucket/prefix/   # ... or from (local) S3
python -m prelabel_detector.server --multi-model --host 0.0.0.0      # the SageMaker MME container
AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=http://127.0.0.1:8080   # then boto3 invoke_endpoint works
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import threading
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from prelabel.detector_wire import JSON_CONTENT_TYPE, MAX_BODY_BYTES, RequestError
from prelabel_detector import handler
from prelabel_detector.descriptor import DEFAULT_DESCRIPTOR, DESCRIPTOR_NAME, Descriptor, bundled
from prelabel_detector.multimodel import (
    SAGEMAKER_MODELS_ROOT,
    ModelHost,
    TargetModelError,
    default_budget,
    load_folder,
)
from prelabel_detector.sources import FolderSource, ModelSource, S3Source
from prelabel_detector.store import ModelStore, StoreError

LOG = logging.getLogger("prelabel_detector.server")
RUNTIME_ROUTE = re.compile(r"^/endpoints/([^/]+)/invocations$")
# Model names travel URL-encoded ("/" as %2F), so one path segment each.
MODEL_ROUTE = re.compile(r"^/models/([^/]+)$")
INVOKE_ROUTE = re.compile(r"^/models/([^/]+)/invoke$")
TARGET_MODEL_HEADER = "X-Amzn-SageMaker-Target-Model"
DEFAULT_ENDPOINT = "prelabel-detector"
# SageMaker Runtime reports a failing container as ModelError with HTTP 424 (Failed Dependency).
MODEL_ERROR_STATUS = 424
DRAIN_LIMIT = 4 * MAX_BODY_BYTES


class DetectorServer(ThreadingHTTPServer):
    daemon_threads = True
    # Lambda workers open many connections at once; the default backlog of 5 drops some.
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        model: handler.LoadedModel | None,
        endpoint_name: str,
        models: ModelHost | None = None,
    ) -> None:
        super().__init__(address, _Handler)
        # What answers a request that names no model; None on a pure multi-model container.
        self.model = model
        self.endpoint_name = endpoint_name
        # The multi-model side: None serves the one model only, as before.
        self.models = models

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive: boto3 and the worker reuse connections.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, delayed ACKs stall each response.
    disable_nagle_algorithm = True
    server: DetectorServer

    def log_message(self, format: str, *args: object) -> None:
        LOG.debug(format, *args)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        host = self.server.models
        if path == "/ping":
            self._send(HTTPStatus.OK, b"", "text/plain")
        elif host is not None and path == "/models":
            self._send_json(*host.listing(query))
        elif host is not None and (match := MODEL_ROUTE.match(path)):
            self._send_json(*host.describe(unquote(match.group(1))))
        else:
            self._send_error(HTTPStatus.NOT_FOUND, "NotFound", f"no route GET {self.path}")

    def do_DELETE(self) -> None:
        path = self.path.split("?")[0]
        host = self.server.models
        if host is not None and (match := MODEL_ROUTE.match(path)):
            self._send_json(*host.unload(unquote(match.group(1))))
        else:
            self._send_error(HTTPStatus.NOT_FOUND, "NotFound", f"no route DELETE {self.path}")

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        host = self.server.models
        if path == "/invocations":
            self._container_invocation(self.server.model)
        elif host is not None and path == "/models":
            body = self._read_body()
            if body is not None:
                self._send_json(*host.load(body))
        elif host is not None and (match := INVOKE_ROUTE.match(path)):
            self._model_invocation(host, unquote(match.group(1)))
        elif (match := RUNTIME_ROUTE.match(path)) is None:
            self._send_error(HTTPStatus.NOT_FOUND, "NotFound", f"no route POST {self.path}")
        elif match.group(1) != self.server.endpoint_name:
            self._send_error(
                HTTPStatus.BAD_REQUEST,
                "ValidationError",
                f"Endpoint {match.group(1)} of account 000000000000 not found.",
            )
        else:
            self._runtime_invocation()

    def _model_invocation(self, host: ModelHost, name: str) -> None:
        try:
            model = host.store.get(name)
        except StoreError as exc:
            self._read_body()
            self._send_json(exc.status, {"message": str(exc)})
            return
        self._container_invocation(model)

    def _container_invocation(self, model: handler.LoadedModel | None) -> None:
        body = self._read_body()
        if body is None:
            return
        if model is None:
            message = "this container serves multi-model requests: POST /models/{name}/invoke"
            self._send_error(HTTPStatus.BAD_REQUEST, "ValidationError", message)
            return
        status, payload = self._invoke(body, model)
        if status == HTTPStatus.OK:
            self._send(status, payload, JSON_CONTENT_TYPE)
        else:
            self._send(status, payload, JSON_CONTENT_TYPE, close=status >= 500)

    def _runtime_invocation(self) -> None:
        body = self._read_body()
        if body is None:
            return
        model = self._target_model()
        if model is None:
            return
        if isinstance(model, tuple):
            status, payload = model
        else:
            status, payload = self._invoke(body, model)
        if status == HTTPStatus.OK:
            headers = {"x-Amzn-Invoked-Production-Variant": "AllTraffic"}
            self._send(status, payload, JSON_CONTENT_TYPE, extra=headers)
            return
        original = json.loads(payload)["message"]
        kind = "client" if status < 500 else "server"
        message = (
            f"Received {kind} error ({status}) from primary with message "
            f'"{original}". See the local server log for details.'
        )
        # Shaped as AWS sends it, so botocore raises SageMakerRuntime.Client.exceptions.ModelError
        # with OriginalStatusCode/OriginalMessage filled in.
        doc = {
            "message": message,
            "OriginalStatusCode": int(status),
            "OriginalMessage": original,
            "LogStreamArn": "local",
        }
        self._send(
            MODEL_ERROR_STATUS,
            json.dumps(doc).encode(),
            JSON_CONTENT_TYPE,
            extra={"x-amzn-ErrorType": "ModelError"},
        )

    def _target_model(self) -> handler.LoadedModel | tuple[int, bytes] | None:
        """The model the call names (or the default); a container error as (status, body);
        None once an endpoint-level error has been sent."""
        target = self.headers.get(TARGET_MODEL_HEADER)
        host = self.server.models
        endpoint = self.server.endpoint_name
        try:
            if not target:
                if self.server.model is None:
                    raise TargetModelError("Request is missing a target model header.")
                return self.server.model
            if host is None:
                raise TargetModelError(
                    f"Endpoint {endpoint} is not a multi-model endpoint and does not support "
                    "target model header."
                )
            return host.target(target)
        except TargetModelError as exc:
            self._send_error(HTTPStatus.BAD_REQUEST, "ValidationError", str(exc))
            return None
        except StoreError as exc:
            return exc.status, json.dumps({"message": str(exc)}).encode()

    def _invoke(self, body: bytes, model: handler.LoadedModel) -> tuple[int, bytes]:
        try:
            batch = handler.input_fn(body, self.headers.get("Content-Type"))
            prediction = handler.predict_fn(batch, model)
            return HTTPStatus.OK, handler.output_fn(prediction, self.headers.get("Accept"))
        except RequestError as exc:
            return exc.status_code, json.dumps({"message": str(exc)}).encode()
        except Exception:
            # Whatever one request does, the server stays up for the next one.
            LOG.exception("invocation failed")
            doc = {"message": "internal error in the model server"}
            return HTTPStatus.INTERNAL_SERVER_ERROR, json.dumps(doc).encode()

    def _read_body(self) -> bytes | None:
        length_header = self.headers.get("Content-Length")
        try:
            length = int(length_header) if length_header is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            self._send_error(
                HTTPStatus.LENGTH_REQUIRED, "ValidationError", "Content-Length is required"
            )
            return None
        if length > MAX_BODY_BYTES:
            # Draining a moderately oversized body lets the client read the answer instead of
            # seeing a reset; beyond that the connection is simply closed.
            if length <= DRAIN_LIMIT:
                self.rfile.read(length)
            self._send_error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "ValidationError",
                f"Request body of {length} bytes exceeds the {MAX_BODY_BYTES} byte limit.",
                close=True,
            )
            return None
        return self.rfile.read(length)

    def _send_json(self, status: int, doc: dict[str, object]) -> None:
        self._send(status, json.dumps(doc).encode(), JSON_CONTENT_TYPE)

    def _send_error(self, status: int, kind: str, message: str, close: bool = False) -> None:
        body = json.dumps({"message": message}).encode()
        self._send(status, body, JSON_CONTENT_TYPE, extra={"x-amzn-ErrorType": kind}, close=close)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)


def serve_in_thread(server: DetectorServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="detector-server", daemon=True)
    thread.start()
    return thread


def load_descriptor(args: argparse.Namespace) -> Descriptor:
    if args.model_dir is not None:
        return Descriptor.load(Path(args.model_dir) / DESCRIPTOR_NAME)
    weights = Path(args.weights_dir) if args.weights_dir else None
    return Descriptor.load(Path(args.descriptor), weights)


def model_host(
    source: ModelSource | None,
    threads: int | None = None,
    budget_bytes: int | None = None,
    url_root: Path | None = None,
) -> ModelHost:
    """The multi-model side: a store loading model folders, under a memory budget."""
    store: ModelStore[handler.LoadedModel] = ModelStore(
        lambda folder: load_folder(folder, threads), budget_bytes or default_budget()
    )
    return ModelHost(store, source, url_root)


def model_source(args: argparse.Namespace) -> ModelSource | None:
    if args.models_dir:
        return FolderSource(Path(args.models_dir))
    if args.models_s3:
        bucket, _, prefix = str(args.models_s3).removeprefix("s3://").partition("/")
        import boto3

        return S3Source(boto3.client("s3"), bucket, prefix)
    return None


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--endpoint-name", default=DEFAULT_ENDPOINT)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model-dir", help="folder laid out like model.tar.gz (descriptor.json)")
    source.add_argument("--descriptor", default=str(bundled(DEFAULT_DESCRIPTOR)))
    parser.add_argument("--weights-dir", help="where the descriptor's weights lie")
    parser.add_argument("--threads", type=int, default=None, help="inference threads")
    models = parser.add_mutually_exclusive_group()
    models.add_argument("--models-dir", help="TargetModel artifacts: a folder (local prefix)")
    models.add_argument("--models-s3", help="TargetModel artifacts: s3://bucket/prefix/")
    parser.add_argument("--multi-model", action="store_true", help="SageMaker MME container")
    parser.add_argument("--memory-budget-mb", type=int, help="loaded models' memory budget")
    # SageMaker starts a container as `docker run IMAGE serve`.
    parser.add_argument("serve", nargs="?", choices=["serve"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    budget = args.memory_budget_mb << 20 if args.memory_budget_mb else None
    source = model_source(args)
    host = None
    if args.multi_model or source is not None:
        root = SAGEMAKER_MODELS_ROOT if args.multi_model else None
        host = model_host(source, args.threads, budget, root)
    # The SageMaker multi-model container serves only what SageMaker loads into it.
    model = None if args.multi_model else handler.load_model(load_descriptor(args), args.threads)
    server = DetectorServer((args.host, args.port), model, args.endpoint_name, host)
    LOG.info(
        "serving %s on %s as %s%s",
        model.descriptor.name if model else "no default model",
        server.url,
        server.endpoint_name,
        " with TargetModel" if host else "",
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
