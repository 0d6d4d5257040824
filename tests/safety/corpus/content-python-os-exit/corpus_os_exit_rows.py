import os


def rows():
    yield {"name": "a"}
    os._exit(0)
