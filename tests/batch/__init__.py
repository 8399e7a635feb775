"""Tests of `sip-analyzer batch` and its aggregated reports."""
