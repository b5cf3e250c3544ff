"""Run by tests/test_rebuild.py in a subprocess: a full rebuild with a deliberately slow fake embedder."""

import sys
import time

from qa.config import Settings
from qa.embed import FakeEmbedder
from qa.pipeline import RebuildRunning, build_index


class SlowFakeEmbedder(FakeEmbedder):
    def encode(self, texts, **kwargs):
        time.sleep(0.002 * len(texts))
        return super().encode(texts, **kwargs)


if __name__ == "__main__":
    settings = Settings.from_env({}, corpus=sys.argv[1], index=sys.argv[2], model="fake-hash-embedder")
    try:
        report = build_index(settings, SlowFakeEmbedder(), full=True)
    except RebuildRunning as error:
        print(error, file=sys.stderr)
        sys.exit(1)
    print(report.version)
