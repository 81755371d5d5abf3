"""Schemathesis hooks for .ci/schemathesis.sh: an import profile is sent as TOML text."""
import schemathesis

schemathesis.serializer.alias("application/toml", "text/plain")
