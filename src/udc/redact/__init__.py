"""Redaction of PII, PHI and PCI between a source and the store."""

from udc.redact.policy import FieldPolicy, RedactionConfig, TablePolicy
from udc.redact.redactor import RedactionFailed, Redactor
from udc.redact.scanner import Finding

__all__ = ["FieldPolicy", "Finding", "RedactionConfig", "RedactionFailed", "Redactor", "TablePolicy"]
