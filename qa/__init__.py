"""qa: an offline, extractive question-answering assistant over a folder of articles.

Importing the package is cheap: torch, faiss and fastapi load only when a command needs them.
"""

__version__ = "0.1.0"
