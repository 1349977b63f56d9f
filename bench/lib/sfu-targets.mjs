// The SFUs bench/sfu-forward.mjs can measure, behind one adapter interface. Add a target by writing
// an adapter (a plain object, see SfuTarget) and registering its name in createTarget().
//
// Lifecycle, per measured session (one SFU process, one room):
//   await target.start({ cpus })            fresh SFU process in the current (loopback-only) netns
//   const feed = await target.publish(pub)  once; then the harness awaits pub.connected()
//   await target.subscribe(sub, feed)       N times (up to --conc at once); then sub.connected()
//   target.pid()                            read any time after start(): CPU and RSS come from /proc/<pid>
//   await target.stop()
//
// The bots (lib/sfu-bots.mjs, driven through lib/sfu-bot-host.mjs proxies) are handed to the adapter;
// it only ever calls their async methods:
//   bot.id                         string, unique in the run ('pub', 'sub-17', ...)
//   bot.kind                       'publisher' | 'subscriber'
//   await bot.offer()              → SDP offer, every candidate included (gathering complete).
//                                    publisher: sendonly VP8 (mid 0, PT 96) + Opus (mid 1, PT 111);
//                                    subscriber: recvonly VP8 (mid 0) + Opus (mid 1)
//   await bot.setAnswer(sdp)       the SFU's answer to that offer
//   await bot.answer(offerSdp)     → SDP answer to an SFU offer (all candidates included). Publisher:
//                                    one VP8 + one Opus section of the offer, sendonly; subscriber:
//                                    every VP8/Opus section, recvonly. By default the bot answers
//                                    a=setup:passive (it is the DTLS server: see sfu-bots.mjs)
//   await bot.addRemoteCandidate(candidate, mid)   a trickled SFU candidate ('a=candidate:...' or 'candidate:...')
// The SFU must announce the SSRCs it sends in its SDP (a=ssrc): node-datachannel routes incoming
// RTP by announced SSRC only. The publisher sends: video SSRC/PT as in its SDP, 1,200-byte VP8 payloads
// (RFC 7741 descriptor with a 15-bit PictureID, S bit on frame starts, marker on frame ends),
// Opus 80-byte payloads at 50 pps; a keyframe every 10 s and at the next frame start after a PLI/FIR.
// It does not retransmit on NACK and sends no SR. Subscribers send receiver reports.

/**
 * @typedef {{ id: string, kind: 'publisher' | 'subscriber',
 *   offer(): Promise<string>, setAnswer(sdp: string): Promise<void>, answer(offerSdp: string): Promise<string>,
 *   addRemoteCandidate(candidate: string, mid: string): Promise<void> }} SfuBot
 */

/**
 * @typedef {object} SfuTarget
 * @property {string} name        label in tables and in the JSON ('janus', 'janus-el2', 'convene')
 * @property {string} botAddress  IPv4 address the bots bind to (their only host candidate): must be a
 *                                local address of the namespace the SFU can reach ('127.0.0.1' for an
 *                                SFU that gathers loopback candidates; Janus needs '127.0.0.2', its veth)
 * @property {boolean} [botsAnswerAsDtlsServer]  whether bots answering its offers should take the
 *                                DTLS server role (default true; see --dtls-passive)
 * @property {(opts?: { cpus?: string }) => Promise<void>} start
 *   Starts a fresh SFU in a child process of its own, in the current network namespace, bound to
 *   loopback (or the namespace's own veth) only, and resolves once publish() can be called. With
 *   `cpus` (a taskset list, e.g. "0"), that process and every thread it will start are pinned.
 * @property {(bot: SfuBot) => Promise<unknown>} publish
 *   Negotiates `bot` as the room's publisher (bot.offer() → SFU → bot.setAnswer(), or SFU offer →
 *   bot.answer() → SFU). Resolves once the SFU has applied the bot's SDP; returns an opaque "feed"
 *   value that the harness passes to subscribe() unchanged.
 * @property {(bot: SfuBot, feed: unknown) => Promise<void>} subscribe
 *   Negotiates `bot` as a subscriber to the feed's video + audio. Resolves once the SFU has applied
 *   the bot's SDP. Called up to --conc at a time. Retry inside for "not ready yet" answers.
 * @property {() => number} pid
 *   The pid of the SFU process: its /proc/<pid>/stat utime+stime (all threads) is the SFU's CPU,
 *   /proc/<pid>/status VmRSS its memory. The SFU's whole media path must live in it (not in a
 *   wrapper shell or npm, and not spread over processes the harness cannot see).
 * @property {() => Promise<unknown>} stop   Ends the SFU (SIGTERM, then SIGKILL) and cleans up.
 * @property {() => object} [describe]       Facts for the JSON: software/version, command, config, counters.
 * @property {() => string} [log]            Its log (tail), printed when a session fails.
 */

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { janusTarget } from './janus.mjs';

export const CONVENE_SFU = fileURLToPath(new URL('./convene-sfu.mjs', import.meta.url));

/**
 * A target by name: `janus` (Janus VideoRoom, default threading: a loop per handle), `janus-el<n>`
 * (`event_loops = n`; janus-el2 is its best configuration on 2 cores), `convene` (Convene's SFU, built:
 * the adapter in lib/convene-sfu.mjs, exporting `conveneTarget(options)`).
 * @returns {Promise<SfuTarget>}
 */
export async function createTarget(name, options = {}) {
  if (name === 'janus') return janusTarget({ name, eventLoops: 0, debugLevel: options.janusDebugLevel });
  const loops = /^janus-el(\d+)$/.exec(name);
  if (loops) return janusTarget({ name, eventLoops: Number(loops[1]), debugLevel: options.janusDebugLevel });
  if (name === 'convene') {
    if (!existsSync(CONVENE_SFU))
      throw new Error(`${CONVENE_SFU} does not exist yet: write it (SfuTarget in lib/sfu-targets.mjs)`);
    const module = await import(CONVENE_SFU);
    return module.conveneTarget({ name, ...options });
  }
  throw new Error(`unknown target ${name} (janus, janus-el<n>, convene)`);
}

/** Whether createTarget(name) can work: a known name, and for convene its adapter file exists. */
export function targetAvailable(name) {
  if (name === 'janus' || /^janus-el\d+$/.test(name)) return true;
  return name === 'convene' && existsSync(CONVENE_SFU);
}
