import sys


def rows():
    sys.exit(3)
