"""deploy/Containerfile and deploy/compose.yaml, as far as this machine can
try them without pulling an image: the final stage installs a package for
every library vodhook links, copies what "cmake --install" makes, and
every VODHOOK_* variable the files (and the systemd unit) set is a setting
vodhook accepts."""
import os
import re
import subprocess
import unittest

import harness as h

DEPLOY = os.path.join(h.SOURCE_DIR, "deploy")
# Libraries of the base image (libc6, libgcc-s1) and of the sanitizer
# build under test, which a release build does not link.
NOT_RUNTIME = {"libc6", "libc6-i386", "libgcc-s1", "libasan8", "libubsan1", "libtsan2"}


def read(name):
    with open(os.path.join(DEPLOY, name)) as f:
        return f.read()


def runtime_packages():
    """The packages of deploy/deps.sh --runtime."""
    m = re.search(r"--runtime\)\s*(?:#[^\n]*\n\s*)*pkgs=\(([^)]*)\)", read("deps.sh"))
    if m is None:
        raise AssertionError("deps.sh has no --runtime package list")
    return set(m.group(1).split())


def needed_packages(binary):
    """The Debian package of each library binary links directly."""
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                         check=True).stdout
    pkgs = {}
    for so in re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", out):
        q = subprocess.run(["dpkg", "-S", "*/" + so], capture_output=True, text=True)
        owners = {line.split(":")[0] for line in q.stdout.splitlines()}
        if not owners:
            raise AssertionError("no package owns %s" % so)
        pkgs[so] = owners
    return pkgs


def settings():
    """{name: secret} of every setting, from vodhook config --markdown."""
    out = h.run(["config", "--markdown"], {})
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    return {m.group(1): m.group(2) is not None for m in
            re.finditer(r"^\| `[a-z0-9_]+` \| `VODHOOK_([A-Z0-9_]+)`( or `_FILE`)?",
                        out.stdout, re.M)}


class Container(unittest.TestCase):
    def setUp(self):
        h.require_env(self)

    def test_runtime_packages_cover_the_libraries(self):
        have = runtime_packages()
        for so, owners in needed_packages(h.BIN).items():
            if owners & NOT_RUNTIME:
                continue
            self.assertTrue(owners & have, "%s (package %s) is not in deps.sh "
                            "--runtime: %s" % (so, " or ".join(sorted(owners)),
                                               " ".join(sorted(have))))
        self.assertIn("curl", have, "the HEALTHCHECK runs curl")
        self.assertIn("ca-certificates", have)

    def test_final_stage_copies_what_install_makes(self):
        build = os.path.dirname(os.path.dirname(h.BIN))
        dest = h.tmpdir("vodhook-destdir-")
        out = subprocess.run(["cmake", "--install", build, "--prefix", "/usr"],
                             env=dict(os.environ, DESTDIR=dest),
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        copies = re.findall(r"^COPY --from=build /out(/\S+) ", read("Containerfile"), re.M)
        self.assertGreaterEqual(len(copies), 1)
        for src in copies:
            self.assertTrue(os.path.exists(dest + src), src + " is not installed")
        text = read("Containerfile")
        self.assertIn("DESTDIR=/out cmake --install", text)
        self.assertIn("-DCMAKE_INSTALL_PREFIX=/usr", text)

    def test_variables_are_settings(self):
        known = settings()
        for name in ("Containerfile", "compose.yaml", "vodhook.service"):
            found = set(re.findall(r"\bVODHOOK_([A-Z0-9_]+)", read(name)))
            self.assertTrue(found, name)
            for var in found:
                base = var[:-5] if var.endswith("_FILE") else var
                if base not in known and var in known:
                    base = var
                self.assertIn(base, known, "%s: VODHOOK_%s is no setting" % (name, var))
                if var != base:
                    self.assertTrue(known[base], "%s: %s is not a secret" % (name, var))

    def test_container_environment_is_accepted(self):
        env = {}
        for block in re.findall(r"^ENV ((?:.*\\\n)*.*)$", read("Containerfile"), re.M):
            for k, v in re.findall(r"(VODHOOK_\w+)=(\S+)", block):
                env[k] = v
        self.assertIn("VODHOOK_LISTEN", env)
        out = h.run(["config"], env)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("listen = %s  # env" % env["VODHOOK_LISTEN"], out.stdout)

    def test_healthcheck_and_spool_volume(self):
        text = read("Containerfile")
        m = re.search(r"^ENV (?:.*\\\n)*.*VODHOOK_SPOOL_DIR=(\S+)", text, re.M)
        self.assertIsNotNone(m)
        vol = re.search(r"^VOLUME (\S+)", text, re.M).group(1)
        self.assertTrue(m.group(1).startswith(vol + "/"), "the spool is not in the volume")
        self.assertRegex(text, r"(?m)^HEALTHCHECK .*\n\s+CMD .*VODHOOK_LISTEN")
        self.assertRegex(text, r"(?m)^USER vodhook$")
        self.assertRegex(read("compose.yaml"), r"image: docker.io/library/postgres:15\n")

    def test_healthcheck_follows_listen(self):
        # The HEALTHCHECK's shell command, run as the container would run
        # it (sh -c, VODHOOK_LISTEN from the environment) against a daemon
        # on a port of its own: healthy on that port, however the address
        # is written; unhealthy when nothing answers there.
        m = re.search(r"(?m)^HEALTHCHECK .*\\\n\s+CMD ((?:.*\\\n)*.*)$", read("Containerfile"))
        self.assertIsNotNone(m)
        cmd = re.sub(r"\\\n\s*", "", m.group(1))
        with h.Daemon(h.fresh_database()) as d:
            for listen in ("127.0.0.1:%d" % d.port, "0.0.0.0:%d" % d.port):
                r = subprocess.run(["sh", "-c", cmd], env=dict(os.environ, VODHOOK_LISTEN=listen),
                                   capture_output=True, text=True, timeout=10)
                self.assertEqual(r.returncode, 0, (listen, r.stderr))
            r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=10,
                               env=dict(os.environ, VODHOOK_LISTEN="127.0.0.1:%d" % h.free_port()))
            self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
