def rows():
    raise KeyboardInterrupt
