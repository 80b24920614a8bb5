"""The commands that run another command, and the shape of their arguments (from their --help).

Each entry says which options the wrapper has (`_options`), how many words come between its
options and the command (`timeout`'s duration, `chrt`'s priority), what runs when no command is
given (nothing, or a shell reading its commands from stdin, which cannot be checked), and which of
its options change the picture: an option with which no command runs (`taskset -p`), whose value
is a shell script (`su -c`), a `NAME=value` for the command's environment (`strace -E`), or that
loads or runs something the analysis cannot see (`fakeroot -l LIB`). Wrappers that change the
user, the namespaces or the root are kept as commands of their own too, so a rule can name them.
The arguments of the wrappers with their own logic (env, xargs, find, parallel, watch, flock,
su, sg, busybox, shells) are read in `_wrappers` and `_shells`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agent.permissions._options import OptionSpec, options


@dataclass(frozen=True, eq=False, repr=False)
class Wrapper:
    """How one wrapper's arguments are laid out."""

    spec: OptionSpec
    positional: int = 0
    """Words after the options and before the command (a duration, a priority, a lock file)."""
    bare: Literal["nothing", "shell"] = "nothing"
    """What runs without a command: nothing (or a report), or an interactive shell on stdin."""
    keep_self: bool = False
    """Also match the wrapper itself (it changes the user, the namespaces or the root)."""
    no_command: frozenset[str] = frozenset()
    """Options with which the remaining words are not a command (`taskset -p MASK PID`)."""
    script: frozenset[str] = frozenset()
    """Options whose value is a script for `sh -c`."""
    env: frozenset[str] = frozenset()
    """Options whose value is `NAME=value` for the command's environment."""
    hidden: frozenset[str] = frozenset()
    """Options that load or run a program the analysis cannot see: the line cannot be checked."""
    shell: frozenset[str] = frozenset()
    """Options that make it run a shell: without a command, one reading commands from stdin."""
    permute: bool = False
    """Options may follow other arguments (getopt without `+`)."""
    numeric: bool = False
    """`-5` is an option (nice)."""


def _set(names: str) -> frozenset[str]:
    return frozenset(names.split())


WRAPPERS: dict[str, Wrapper] = {
    "nohup": Wrapper(options()),
    "setsid": Wrapper(options(flags="-c/--ctty -f/--fork -w/--wait")),
    "stdbuf": Wrapper(options("-i/--input -o/--output -e/--error")),
    "nice": Wrapper(options("-n/--adjustment"), numeric=True),
    "timeout": Wrapper(
        options("-k/--kill-after -s/--signal", "--preserve-status --foreground -v/--verbose"), positional=1
    ),
    "ionice": Wrapper(
        options("-c/--class -n/--classdata -p/--pid -P/--pgid -u/--uid", "-t/--ignore"),
        no_command=_set("-p -P -u"),
    ),
    "chrt": Wrapper(
        options(
            "-T/--sched-runtime -P/--sched-period -D/--sched-deadline",
            "-b/--batch -d/--deadline -f/--fifo -i/--idle -o/--other -r/--rr -R/--reset-on-fork "
            "-a/--all-tasks -v/--verbose -m/--max -p/--pid",
        ),
        positional=1,
        no_command=_set("-p -m"),
    ),
    "taskset": Wrapper(
        options(flags="-a/--all-tasks -p/--pid -c/--cpu-list"), positional=1, no_command=_set("-p")
    ),
    "prlimit": Wrapper(
        options(
            "-p/--pid -o/--output",
            "--noheadings --raw --verbose",
            "-c/--core -d/--data -e/--nice -f/--fsize -i/--sigpending -l/--memlock -m/--rss "
            "-n/--nofile -q/--msgqueue -r/--rtprio -s/--stack -t/--cpu -u/--nproc -v/--as "
            "-x/--locks -y/--rttime",
        ),
        no_command=_set("-p"),
    ),
    "time": Wrapper(
        options("-f/--format -o/--output", "-a/--append -p/--portability -q/--quiet -v/--verbose")
    ),
    "script": Wrapper(
        options(
            "-I/--log-in -O/--log-out -B/--log-io -T/--log-timing -m/--logging-format "
            "-c/--command -E/--echo -o/--output-limit",
            "-a/--append -e/--return -f/--flush --force -q/--quiet",
            "-t/--timing",
        ),
        bare="shell",
        script=_set("-c"),
    ),
    "strace": Wrapper(
        options(
            "-e -o/--output -p/--attach -s/--string-limit -u/--user -E/--env -P/--trace-path "
            "-a/--columns -b/--detach-on -I/--interruptible -O/--summary-syscall-overhead "
            "-S/--summary-sort-by -U/--summary-columns -X/--const-print-style --trace --signal "
            "--status --abbrev --verbose --raw --read --write --quiet --inject --fault",
            "-c/--summary-only -C/--summary -d/--debug -f/--follow-forks -F -i/--instruction-pointer "
            "-k/--stack-traces -n/--syscall-number -q -r -t -T -v/--no-abbrev -w/--summary-wall-clock "
            "-x -y -z/--successful-only -Z/--failed-only -A/--output-append-mode -Y --output-separately "
            "--seccomp-bpf",
            "-D/--daemonize --decode-fds --absolute-timestamps --relative-timestamps --syscall-times "
            "--strings-in-hex",
        ),
        env=_set("-E"),
        no_command=_set("-p"),
    ),
    "ltrace": Wrapper(
        options(
            "-e -o/--output -p -s -u -a/--align -A -D/--debug -F/--config -l/--library -L "
            "-n/--indent -w/--where -x",
            "-b/--no-signals -c -C/--demangle -f -i -r -S -t -tt -ttt -T",
        ),
        no_command=_set("-p"),
    ),
    "fakeroot": Wrapper(
        options("-l/--lib -f/--faked -i -s -b/--fd-base", "-u/--unknown-is-real"),
        bare="shell",
        hidden=_set("-l -f"),
    ),
    "ssh-agent": Wrapper(options("-a -E -O -P -t", "-c -s -D -d -k"), no_command=_set("-k -D -d")),
    "dbus-run-session": Wrapper(
        options("--dbus-daemon --config-file"), hidden=_set("--dbus-daemon --config-file")
    ),
    "unshare": Wrapper(
        options(
            "--map-user --map-group --map-users --map-groups --propagation --setgroups -R/--root "
            "-w/--wd -S/--setuid -G/--setgid --monotonic --boottime -l/--load-interp",
            "-f/--fork -r/--map-root-user -c/--map-current-user --map-auto --keep-caps",
            "-m/--mount -u/--uts -i/--ipc -n/--net -p/--pid -U/--user -C/--cgroup -T/--time "
            "--kill-child --mount-proc --mount-binfmt",
        ),
        bare="shell",
        hidden=_set("-R -l"),
        keep_self=True,
    ),
    "nsenter": Wrapper(
        options(
            "-t/--target -S/--setuid -G/--setgid -W/--wdns",
            "-a/--all --preserve-credentials -F/--no-fork -Z/--follow-context -c/--join-cgroup -e/--env",
            "-m/--mount -u/--uts -i/--ipc -n/--net -p/--pid -C/--cgroup -U/--user -T/--time "
            "-r/--root -w/--wd",
        ),
        bare="shell",
        hidden=_set("-r"),
        keep_self=True,
    ),
    "setpriv": Wrapper(
        options(
            "--ruid --euid --rgid --egid --reuid --regid --groups --securebits --pdeathsig "
            "--selinux-label --apparmor-profile --inh-caps --ambient-caps --bounding-set "
            "--landlock-access --landlock-rule --seccomp-filter",
            "-d/--dump --nnp/--no-new-privs --clear-groups --keep-groups --init-groups --reset-env",
        ),
        no_command=_set("-d"),
        keep_self=True,
    ),
    "chroot": Wrapper(
        options("--userspec --groups", "--skip-chdir"), positional=1, bare="shell", keep_self=True
    ),
    "pkexec": Wrapper(options("--user", "--disable-internal-agent --keep-cwd"), bare="shell", keep_self=True),
    "sudo": Wrapper(
        options(
            "-C/--close-from -D/--chdir -g/--group -p/--prompt -R/--chroot -r/--role -t/--type "
            "-T/--command-timeout -U/--other-user -u/--user -a -c",
            "-A/--askpass -B/--bell -b/--background -E -e/--edit -H/--set-home -i/--login "
            "-K/--remove-timestamp -k/--reset-timestamp -l/--list -N/--no-update -n/--non-interactive "
            "-P/--preserve-groups -S/--stdin -s/--shell -v/--validate",
            "-h/--host --preserve-env",
        ),
        no_command=_set("-e -l -v -K"),
        hidden=_set("-R -D"),
        shell=_set("-s -i"),
        keep_self=True,
    ),
    "doas": Wrapper(options("-u -C", "-n -s -L"), no_command=_set("-C -L"), shell=_set("-s"), keep_self=True),
    "systemd-run": Wrapper(
        options(
            "-H/--host -M/--machine -u/--unit -p/--property --description --slice --service-type "
            "--uid --gid --nice --working-directory -E/--setenv --path-property --socket-property "
            "--timer-property --on-active --on-boot --on-startup --on-unit-active "
            "--on-unit-inactive --on-calendar",
            "--no-ask-password --user --system --scope --slice-inherit --no-block "
            "-r/--remain-after-exit --wait --send-sighup -d/--same-dir -t/--pty -P/--pipe "
            "-q/--quiet -G/--collect -S/--shell --on-timezone-change --on-clock-change",
        ),
        env=_set("-E"),
        hidden=_set("-S --path-property --socket-property --timer-property"),
        keep_self=True,
    ),
    "dbus-launch": Wrapper(
        options(
            "--config-file --autolaunch",
            "--sh-syntax --csh-syntax --exit-with-session --exit-with-x11 --close-stderr",
        ),
        hidden=_set("--config-file"),
    ),
}
"""Wrappers read by the table alone."""

EXEC_LIKE: dict[str, Wrapper] = {
    "command": Wrapper(options(flags="-p -v -V"), no_command=_set("-v -V")),
    "builtin": Wrapper(options()),
    "exec": Wrapper(options("-a", "-c -l")),
}
"""Bash builtins that run their arguments as a command."""

RUNNERS: dict[str, tuple[str, ...]] = {
    "npx": (),
    "bunx": (),
    "pnpx": (),
    "uvx": (),
    "pipx": ("run",),
    "uv": ("run",),
    "poetry": ("run",),
    "pipenv": ("run",),
    "pdm": ("run",),
    "hatch": ("run",),
    "rye": ("run",),
    "pixi": ("run",),
    "conda": ("run",),
    "mamba": ("run",),
    "micromamba": ("run",),
    "bundle": ("exec",),
    "npm": ("exec",),
    "pnpm": ("exec",),
    "yarn": ("exec",),
    "bun": ("x",),
    "mise": ("exec",),
    "asdf": ("exec",),
    "direnv": ("exec",),
    "devbox": ("run",),
    "dotenv": (),
    "xvfb-run": (),
    "eatmydata": (),
    "proxychains": (),
    "proxychains4": (),
    "torsocks": (),
    "catchsegv": (),
    "cross-env": (),
    "env-cmd": (),
    "valgrind": (),
    "firejail": (),
    "entr": (),
    "numactl": (),
    "cgexec": (),
    "ccache": (),
    "distcc": (),
    "caffeinate": (),
}
"""Programs that run a command after options this analysis does not model: every later word
that could start a command is checked as one (`uv run --with x rm y` checks `rm y`)."""
