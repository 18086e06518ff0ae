"""Audit: match generated segments against official ones and report how close they are.

Public API::

    from voxrepro.audit import compare_segments, match_segments, build_report, write_reports
"""

from __future__ import annotations

from voxrepro.audit.compare import compare_segments as compare_segments
from voxrepro.audit.compare import match_segments as match_segments
from voxrepro.audit.metrics import HEADLINE_METRICS as HEADLINE_METRICS
from voxrepro.audit.metrics import Metric as Metric
from voxrepro.audit.report import SCHEMA_VERSION as SCHEMA_VERSION
from voxrepro.audit.report import Report as Report
from voxrepro.audit.report import build_report as build_report
