"""Exports of a project's labels (COCO JSON; YOLO, flat YOLO, Pascal VOC and Label Studio
zips), streamed from an iterable of tasks into a binary sink."""

from prelabel.export_formats.formats import ExportFormat, ExportSummary
from prelabel.export_formats.writer import write_export

__all__ = ["ExportFormat", "ExportSummary", "write_export"]
