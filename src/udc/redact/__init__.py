"""Redaction of PII, PHI and PCI between a source and the store."""

from udc.redact.redactor import RedactionFailed, Redactor
from udc.redact.scanner import Finding

__all__ = ["Finding", "RedactionFailed", "Redactor"]
