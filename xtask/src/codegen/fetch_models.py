# Fetches AWS's IAM and STS service models from the pinned botocore wheel
# (PyPI) into a cache directory, checking the wheel's SHA-256, and writes
# them there as plain JSON: iam.json, sts.json. Called by `cargo xtask codegen`.
import gzip
import hashlib
import os
import subprocess
import sys
import zipfile

version, sha256, dest = sys.argv[1:4]
os.makedirs(dest, exist_ok=True)
wheel = os.path.join(dest, f"botocore-{version}-py3-none-any.whl")
if not os.path.exists(wheel):
    subprocess.check_call(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--only-binary=:all:", "-d", dest, f"botocore=={version}"]
    )
with open(wheel, "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
if digest != sha256:
    os.remove(wheel)
    sys.exit(f"botocore {version}: SHA-256 {digest}, expected {sha256}")
models = {
    "iam": "botocore/data/iam/2010-05-08/service-2.json",
    "sts": "botocore/data/sts/2011-06-15/service-2.json",
}
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    for service, path in models.items():
        if path in names:
            data = z.read(path)
        else:
            data = gzip.decompress(z.read(path + ".gz"))
        with open(os.path.join(dest, service + ".json"), "wb") as out:
            out.write(data)
