"""What the host-timings scripts share (host-timings.py, launch-timings.py, wake-timings.py): reading a
recorder's CSV (CONTENTION_HOST_TIMINGS=DIR, docs/sim.md) and quantiles."""


def quantile(values, p):
    """Linear between order statistics (p from 0 to 1); nan for none."""
    if not values:
        return float("nan")
    values = sorted(values)
    position = p * (len(values) - 1)
    below = int(position)
    above = min(below + 1, len(values) - 1)
    return values[below] + (position - below) * (values[above] - values[below])


def read(path):
    """A recorder's file: its columns, its rows (ints) and its notes (the '#' lines: rows it did not keep)."""
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows, notes = [], []
        for line in f:
            if line.startswith("#"):
                notes.append(line[1:].strip())
            elif line.strip():
                rows.append([int(v) for v in line.split(",")])
    return header, rows, notes
