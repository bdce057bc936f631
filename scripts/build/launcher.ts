/**
 * The self-extracting executable `make dist` writes per target: a POSIX shell header and,
 * after it, a gzip'd tar of the Deno runtime and the bundled agent. The header checks the
 * host's architecture, unpacks the payload once into the cache folder after checking the
 * SHA-256 sums it carries, and runs `deno run -A --no-config` on the bundle from there (with
 * the agent's V8 flags, lib/runtime_flags.ts), so a host without Deno needs this one file
 * and no network.
 *
 * @module
 */

import { agentV8FlagsArgument } from "../../lib/runtime_flags.ts";

/** What one launcher carries, for its header. */
export interface LauncherInfo {
  /** vkedge's version. */
  version: string;
  /** The commit the bundle was built from. */
  commit: string;
  /** The Deno version of the runtime. */
  denoVersion: string;
  /** `uname -m` of the hosts it runs on: `x86_64` or `aarch64`. */
  arch: string;
  /** SHA-256 (hex) of the payload, the `deno` binary and `vkedge.js`. */
  sha256: { payload: string; deno: string; bundle: string };
}

/** The cache subfolder of one payload: version and the payload's sum, so builds never meet. */
export function cacheId(info: LauncherInfo): string {
  return `vkedge-${info.version}-${info.arch}-${info.sha256.payload.slice(0, 16)}`;
}

function header(info: LauncherInfo, offset: number): string {
  return `#!/bin/sh
# vkedge ${info.version} (commit ${info.commit}) for Linux ${info.arch}, with Deno ${info.denoVersion}.
# A self-extracting file: the first start unpacks Deno and the agent into
# \${VKEDGE_CACHE_DIR:-\${XDG_CACHE_HOME:-~/.cache}/vkedge}/${cacheId(info)} after checking
# their SHA-256 sums; later starts run from there. It needs no network.
set -eu
id='${cacheId(info)}'
arch='${info.arch}'
offset=${offset}
payload_sha256='${info.sha256.payload}'
deno_sha256='${info.sha256.deno}'
bundle_sha256='${info.sha256.bundle}'

die() {
  echo "vkedge: $*" >&2
  exit 1
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | cut -d' ' -f1
  else
    die "cannot check the payload: install sha256sum (coreutils), shasum or openssl"
  fi
}

host="$(uname -s) $(uname -m)"
[ "$host" = "Linux $arch" ] ||
  die "this file runs vkedge on Linux $arch, this host is $host: take the file for $(uname -m)"

self=$0
case $self in
*/*) ;;
*) self=$(command -v -- "$self") || die "cannot find this file ($0) to unpack it" ;;
esac

if [ -n "\${VKEDGE_CACHE_DIR:-}" ]; then
  cache=$VKEDGE_CACHE_DIR
elif [ -n "\${XDG_CACHE_HOME:-}" ]; then
  cache=$XDG_CACHE_HOME/vkedge
elif [ -n "\${HOME:-}" ] && [ "$HOME" != / ]; then
  cache=$HOME/.cache/vkedge
else
  die "no cache folder: set VKEDGE_CACHE_DIR, XDG_CACHE_HOME or HOME"
fi
dir=$cache/$id

if [ ! -f "$dir/.verified" ]; then
  mkdir -p "$cache" 2>/dev/null ||
    die "cannot create the cache folder $cache: set VKEDGE_CACHE_DIR to a writable folder"
  tmp=$(mktemp -d "$cache/.unpack-XXXXXX") || die "cannot write to the cache folder $cache"
  trap 'rm -rf "$tmp"' EXIT
  tail -c +$((offset + 1)) "$self" >"$tmp/payload.tar.gz"
  [ "$(sha256 "$tmp/payload.tar.gz")" = "$payload_sha256" ] ||
    die "$self is damaged (payload checksum mismatch): download it again"
  tar -xzf "$tmp/payload.tar.gz" -C "$tmp" || die "cannot unpack $self into $cache"
  rm -f "$tmp/payload.tar.gz"
  [ "$(sha256 "$tmp/deno")" = "$deno_sha256" ] ||
    die "the Deno runtime unpacked from $self does not match its checksum"
  [ "$(sha256 "$tmp/vkedge.js")" = "$bundle_sha256" ] ||
    die "the agent unpacked from $self does not match its checksum"
  chmod 0755 "$tmp/deno"
  : >"$tmp/.verified"
  if [ -f "$dir/.verified" ]; then
    rm -rf "$tmp" # another first start won the race: its copy is as good as ours
  else
    rm -rf "$dir"
    mv "$tmp" "$dir" 2>/dev/null || true
    rm -rf "$dir/$(basename "$tmp")"
  fi
  trap - EXIT
  [ -f "$dir/.verified" ] || die "cannot move the unpacked files to $dir"
fi

export DENO_DIR="$dir/deno-dir" DENO_NO_UPDATE_CHECK=1
exec "$dir/deno" run -A ${agentV8FlagsArgument()} --no-config --no-lock --no-remote --quiet "$dir/vkedge.js" "$@"
`;
}

/**
 * The launcher's header for `info`, with the payload's byte offset written in: the offset
 * is the header's own length, found by writing it until it no longer changes.
 */
export function launcherHeader(info: LauncherInfo): string {
  let offset = 0;
  for (;;) {
    const text = header(info, offset);
    const length = new TextEncoder().encode(text).length;
    if (length === offset) return text;
    offset = length;
  }
}

/** SHA-256 of `bytes` in hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs `cmd` with `args`, throwing with its standard error when it fails. */
export async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (out.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${out.code}: ${decoder.decode(out.stderr).trim()}`,
    );
  }
  return decoder.decode(out.stdout);
}

/**
 * Writes the launcher for `deno` (the runtime binary) and `bundle` (vkedge.js) to `output`,
 * executable.
 */
export async function writeLauncher(
  output: string,
  files: { deno: string; bundle: string },
  info: Omit<LauncherInfo, "sha256">,
): Promise<LauncherInfo> {
  const staging = await Deno.makeTempDir({ prefix: "vkedge-dist-" });
  try {
    await Deno.copyFile(files.deno, `${staging}/deno`);
    await Deno.copyFile(files.bundle, `${staging}/vkedge.js`);
    await Deno.chmod(`${staging}/deno`, 0o755);
    await run("tar", ["-czf", `${staging}/payload.tar.gz`, "-C", staging, "deno", "vkedge.js"]);
    const payload = await Deno.readFile(`${staging}/payload.tar.gz`);
    const full: LauncherInfo = {
      ...info,
      sha256: {
        payload: await sha256Hex(payload),
        deno: await sha256Hex(await Deno.readFile(files.deno)),
        bundle: await sha256Hex(await Deno.readFile(files.bundle)),
      },
    };
    const head = new TextEncoder().encode(launcherHeader(full));
    const out = new Uint8Array(head.length + payload.length);
    out.set(head, 0);
    out.set(payload, head.length);
    await Deno.writeFile(output, out, { mode: 0o755 });
    await Deno.chmod(output, 0o755);
    return full;
  } finally {
    await Deno.remove(staging, { recursive: true });
  }
}
