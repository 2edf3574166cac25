"""Request errors with the HTTP status the container answers; per-image problems are not errors."""


class RequestError(Exception):
    """The whole request is unusable; no image of it is looked at."""

    status_code = 400


class MalformedRequestError(RequestError):
    status_code = 400


class PayloadTooLargeError(RequestError):
    status_code = 413


class UnsupportedMediaTypeError(RequestError):
    status_code = 415


class NotAcceptableError(RequestError):
    status_code = 406


class ResponseFormatError(ValueError):
    """A client got a body that is not the detector's response shape."""
