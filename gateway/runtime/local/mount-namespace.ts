// The script that runs as root inside the sandbox's fresh mount and PID namespaces (pid 1, before any
// sandbox code): it builds the sandbox's view of the filesystem, then becomes the sandbox user for good.
//
// Hidden roots (/tmp, /var/tmp, /dev/shm and the data dir) each get a fresh tmpfs. Paths the sandbox
// must still see under such a root (its own box/, the checkout, the node binary) are bound back at the
// same path. Each tmpfs is built at a staging mount point first and then moved over its root, the one
// that hides the staging area itself last, so the sources stay reachable while they are bound.
import { existsSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { SystemUser } from '../../../vault/host/users.ts';
import { dropTo } from './privileges.ts';

export interface MountPlan {
  dataDir: string;
  sandboxDir: string;
  stageDir: string;
  box: string;
  resolvConf: string;
  /** Other host paths the sandbox needs (the checkout, the node binary's folder); kept wherever a root would hide them. */
  keep: string[];
  /** Host paths bound read-only at the same path (the harness directory): seen, never changed. */
  readOnly: string[];
  /** Who the agent runs as. */
  user: SystemUser;
}

const PRIVATE_DIRS = ['/tmp', '/var/tmp', '/dev/shm'];
const PRIVATE_OPTIONS = 'mode=1777,nosuid,nodev';
const DATA_OPTIONS = 'mode=0755,size=1m,nosuid,nodev';

interface HiddenRoot {
  path: string;
  options: string;
  stage: string;
  keep: string[];
}

/** The `sh -c` script; the agent's argv follows it as "$@". All paths must be real (no symlinks). */
export function sandboxInitScript(plan: MountPlan): string {
  const roots = hiddenRoots(plan);
  const lines = [
    'set -eu',
    'umask 022',
    // This namespace starts as a copy of the host's, holding every other sandbox's /run/netns handle:
    // drop those copies, or a destroyed sandbox's network namespace would live on until this one ends.
    'umount -R /run/netns 2>/dev/null || true',
    // Its own pty instance: sandboxes share a uid, so a shared /dev/pts would let one open another's terminal.
    'mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,nosuid,noexec lap-devpts /dev/pts',
    'mount --bind /dev/pts/ptmx /dev/ptmx',
    `mount --bind ${quote(plan.resolvConf)} /etc/resolv.conf`,
  ];
  for (const root of roots) {
    lines.push(`mount -t tmpfs -o ${root.options} lap-hidden ${quote(root.stage)}`);
    for (const path of root.keep) {
      const target = join(root.stage, relative(root.path, path));
      lines.push(`mkdir -p ${quote(target)}`, `mount --bind ${quote(path)} ${quote(target)}`);
    }
  }
  for (const root of roots) lines.push(`mount --move ${quote(root.stage)} ${quote(root.path)}`);
  // Bound onto itself first: a remount changes a mount, not a folder, and the path may not be one yet.
  for (const path of plan.readOnly) lines.push(`mount --bind ${quote(path)} ${quote(path)}`, `mount -o remount,bind,ro ${quote(path)}`);
  // pid 1 stays a shell that waits for the agent: it reaps orphaned processes, and when the agent ends
  // it ends, which takes the whole PID namespace with it.
  lines.push(`cd ${quote(plan.box)}`, `exec ${dropTo(plan.user).join(' ')} /bin/sh -c '"$@" & wait $!' lap-sandbox-init "$@"`);
  return `${lines.join('\n')}\n`;
}

/** The stage mount points the plan uses: create them (empty, root-only) before starting the script. */
export function stageMountPoints(plan: MountPlan): string[] {
  return hiddenRoots(plan).map((root) => root.stage);
}

function hiddenRoots(plan: MountPlan): HiddenRoot[] {
  const privateDirs = [...new Set(PRIVATE_DIRS.filter((dir) => existsSync(dir)).map((dir) => realpathSync(dir)))];
  const dataInsidePrivate = privateDirs.some((dir) => isInside(plan.dataDir, dir));
  const roots = [
    ...privateDirs.map((path) => ({ path, options: PRIVATE_OPTIONS })),
    ...(dataInsidePrivate ? [] : [{ path: plan.dataDir, options: DATA_OPTIONS }]),
  ];
  const keep = outermost([plan.box, ...plan.keep, ...plan.readOnly]);
  const withStages = roots.map((root, i) => ({
    ...root,
    stage: join(plan.stageDir, String(i)),
    keep: keep.filter((path) => isInside(path, root.path)),
  }));
  // The root that holds the stages must be moved last: moving it first would hide the other stages.
  return [...withStages.filter((r) => !isInside(plan.stageDir, r.path)), ...withStages.filter((r) => isInside(plan.stageDir, r.path))];
}

/** Drops paths that lie inside another path of the list. */
function outermost(paths: string[]): string[] {
  return paths.filter((path, i) => !paths.some((other, j) => j !== i && isInside(path, other) && (path !== other || j < i)));
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !rel.startsWith('/'));
}

function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
