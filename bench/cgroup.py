"""A memory cgroup (v1 or v2) for one benchmark run, shared by bench/run.py and
bench/train_8gb.py: unlike an address-space cap, it limits what a process really holds (page
cache included), so a reference that maps far more than it touches is not stopped early."""
import os
import time


def available_bytes():
    """MemAvailable from /proc/meminfo, or None."""
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


class Cgroup:
    """A memory cgroup of limit bytes, made fresh for each run (make, then enter from the
    child, then remove) so that its peak is the run's."""

    def __init__(self, limit):
        self.limit, self.path, self.v1 = limit, None, os.path.isdir('/sys/fs/cgroup/memory')

    def make(self):
        """Makes it; False where the machine does not let us (read-only /sys/fs/cgroup, no
        memory controller)."""
        base = '/sys/fs/cgroup/memory' if self.v1 else '/sys/fs/cgroup'
        path = os.path.join(base, 'ugatit_bench_%d' % os.getpid())
        try:
            os.mkdir(path)
            with open(os.path.join(path, 'memory.limit_in_bytes' if self.v1 else 'memory.max'),
                      'w') as f:
                f.write(str(self.limit))
        except OSError:
            if os.path.isdir(path):
                os.rmdir(path)
            return False
        self.path = path
        return True

    def enter(self):
        """Moves the calling process in (a Popen preexec_fn)."""
        with open(os.path.join(self.path, 'cgroup.procs'), 'w') as f:
            f.write(str(os.getpid()))

    def peak_mb(self):
        name = 'memory.max_usage_in_bytes' if self.v1 else 'memory.peak'
        try:
            with open(os.path.join(self.path, name)) as f:
                return '%.0f' % (int(f.read()) / 1e6)
        except OSError:
            return '-'

    def remove(self):
        for _ in range(50):  # the last process leaves it a moment after it exits
            try:
                os.rmdir(self.path)
                break
            except OSError:
                time.sleep(0.1)
        self.path = None
