// Process and machine facts from /proc (Linux), for CPU and memory accounting.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User and system CPU time of one process (all its threads), in clock ticks; null once it is gone. */
export function cpuTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]), sys: Number(fields[12]) };
  } catch {
    return null;
  }
}

/** utime + stime of one process, in clock ticks; null once it is gone. */
export function cpuTicks(pid) {
  const times = cpuTimes(pid);
  return times === null ? null : times.user + times.sys;
}

/**
 * Jiffies of the whole machine (all cores): total, busy (not idle/iowait/steal), and the parts of
 * busy that no process is charged for: irq + softirq (on loopback, much of TCP delivery runs as
 * softirq) — plus steal (time the hypervisor gave to other guests).
 */
export function machineTicks() {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const parse = (line) => {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = user + nice + system + idle + iowait + irq + softirq + steal;
    return { busy: user + nice + system + irq + softirq, irq: irq + softirq, steal, total };
  };
  const machine = parse(lines[0]);
  machine.cpus = lines.filter((line) => /^cpu\d+ /.test(line)).map(parse);
  return machine;
}

/** Resident set size of a process in bytes (VmRSS). */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/**
 * Samples CPU of named processes and the machine; `stop()` returns each name's CPU as % of one
 * core over the interval (summed over processes sharing a name; also split user/sys), the
 * machine's busy % of all cores, and the busy share not explained by the named processes
 * ("other": everything else running on the box), as % of one core.
 */
export function startCpuSample(pids) {
  const start = {
    at: process.hrtime.bigint(),
    machine: machineTicks(),
    procs: pids.map(([name, pid]) => [name, pid, cpuTimes(pid)]),
  };
  return () => {
    const seconds = Number(process.hrtime.bigint() - start.at) / 1e9;
    const machine = machineTicks();
    const pct = (ticks) => (100 * ticks) / CLOCK_TICKS_PER_SECOND / seconds;
    const out = { seconds, processes: {}, user: {}, sys: {} };
    let ours = 0;
    for (const [name, pid, before] of start.procs) {
      const after = cpuTimes(pid);
      const user = after === null || before === null ? 0 : after.user - before.user;
      const sys = after === null || before === null ? 0 : after.sys - before.sys;
      ours += user + sys;
      out.processes[name] = (out.processes[name] ?? 0) + pct(user + sys);
      out.user[name] = (out.user[name] ?? 0) + pct(user);
      out.sys[name] = (out.sys[name] ?? 0) + pct(sys);
    }
    const busyTicks = machine.busy - start.machine.busy;
    const irqTicks = machine.irq - start.machine.irq;
    const totalTicks = Math.max(1, machine.total - start.machine.total);
    const ofCore = (ticks) => (cpus().length * 100 * ticks) / totalTicks;
    out.machineBusyPct = (100 * busyTicks) / totalTicks;
    out.softirqPctOfCore = ofCore(irqTicks);
    out.stealPctOfCore = ofCore(machine.steal - start.machine.steal);
    // Other processes: busy time neither charged to ours nor spent in (soft)irq context.
    out.otherPctOfCore = Math.max(0, ofCore(busyTicks - irqTicks - ours));
    // Busy % of each CPU (everything on it: processes, softirq).
    out.perCpuBusyPct = machine.cpus.map((cpu, i) => {
      const before = start.machine.cpus[i];
      return (100 * (cpu.busy - before.busy)) / Math.max(1, cpu.total - before.total);
    });
    return out;
  };
}

/** CPU used by everything except `ourPids` over `ms`, as % of one core. */
export async function foreignCpu(ourPids, ms = 500) {
  const stop = startCpuSample(ourPids.map((pid) => ['ours', pid]));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return stop().otherPctOfCore;
}

/** Ports a process listens on (TCP, IPv4 and IPv6), from its socket inodes. */
export function listeningPorts(pid) {
  const inodes = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const match = /^socket:\[(\d+)\]$/.exec(link);
        if (match) inodes.add(match[1]);
      } catch {}
    }
  } catch {
    return [];
  }
  const ports = [];
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue; // 0A = LISTEN
      if (inodes.has(fields[9])) ports.push(Number.parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports;
}

/** The machine, for result files. */
export function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  let kernel = 'unknown';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {}
  const loadavg = readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
  return {
    cpuModel: model,
    cores: cpus().length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel,
    node: process.version,
    loadavg,
  };
}

/** Network interfaces of this process's network namespace: a loopback-only one shows just `lo`. */
export function networkInterfaces() {
  try {
    return readFileSync('/proc/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .map((line) => line.split(':')[0].trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}
