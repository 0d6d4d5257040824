class Stop(BaseException):
    pass


def rows():
    yield {"name": "a"}
    raise Stop("no more rows")
