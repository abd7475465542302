"""The pipeline as tasks: scan a source (fetch → hash → match → record what matched), watch
sources on their schedule. In-process by default; the same tasks on a distributed engine."""
