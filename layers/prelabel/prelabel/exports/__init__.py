"""Exports of a project's labels (COCO JSON, YOLO txt, Pascal VOC XML): pure, no I/O."""

from prelabel.exports.bundle import ExportBundle, ExportFormat, build_export

__all__ = ["ExportBundle", "ExportFormat", "build_export"]
