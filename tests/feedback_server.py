"""``python feedback_server.py CORPUS INDEX PORT``: qa serve over a fake-embedder index, for the kill -9 test."""

import sys

import uvicorn

from qa.app import create_app
from qa.config import Settings
from qa.embed import FakeEmbedder
from qa.pipeline import Assistant

settings = Settings.from_env({}, corpus=sys.argv[1], index=sys.argv[2], model="fake-hash-embedder", reader="off",
                             reload_interval=0)
uvicorn.run(create_app(settings, Assistant.load(settings, FakeEmbedder())), host="127.0.0.1", port=int(sys.argv[3]),
            log_level="warning")
