// Test-time IAM oracle for trailwarden's differential tests.
//
// Protocol: one JSON object per stdin line, {"id": string, "simulation": <Simulation>};
// exactly one JSON line per input on stdout, in input order:
// {"id", "decision", "resultType", "blockedBy", "ignoredContextKeys", "errors"}.
// Blank lines are not inputs and get no answer. The process exits when stdin closes.
//
// iam-simulate is AGPL: it is only ever run as this separate process, never linked,
// vendored or translated into trailwarden (see README.md).
import { createInterface } from 'node:readline'
import { once } from 'node:events'
import { runSimulation } from '@cloud-copilot/iam-simulate'

// Per-policy validation error groups of SimulationErrors, flattened into plain strings so
// the Go side does not depend on iam-simulate's error structure.
function flattenErrors(errors) {
  const out = []
  if (!errors || typeof errors !== 'object') return [String(errors)]
  if (errors.message) out.push(errors.message)
  for (const [group, value] of Object.entries(errors)) {
    if (group === 'message' || value == null) continue
    if (Array.isArray(value)) {
      for (const e of value) out.push(`${group}: ${describe(e)}`)
    } else if (typeof value === 'object') {
      for (const [name, list] of Object.entries(value)) {
        for (const e of list ?? []) out.push(`${group}[${name}]: ${describe(e)}`)
      }
    }
  }
  return out
}

function describe(e) {
  if (e && typeof e === 'object' && 'message' in e) {
    return e.path ? `${e.path}: ${e.message}` : String(e.message)
  }
  return String(e)
}

// A wildcard request runs one simulation per matching resource pattern; the union of
// their blockers and ignored keys is what a single-answer caller can compare.
function summarise(id, res) {
  const answer = { id, decision: '', resultType: res.resultType ?? '', blockedBy: '', ignoredContextKeys: [], errors: [] }
  if (res.resultType === 'error') {
    answer.errors = flattenErrors(res.errors)
    return answer
  }
  answer.decision = res.overallResult ?? ''
  const results = res.resultType === 'single' ? [res.result] : (res.results ?? [])
  const blocked = new Set()
  const ignored = new Set()
  for (const r of results) {
    for (const b of r?.analysis?.blockedBy ?? []) blocked.add(b)
    for (const k of r?.ignoredContextKeys ?? []) ignored.add(k)
  }
  // blockedBy is a list in iam-simulate; a comma-joined string keeps the answer flat.
  answer.blockedBy = [...blocked].join(',')
  answer.ignoredContextKeys = [...ignored]
  return answer
}

async function answerLine(line) {
  let id = ''
  try {
    const input = JSON.parse(line)
    if (input && typeof input.id === 'string') id = input.id
    if (!input || typeof input !== 'object' || typeof input.simulation !== 'object' || input.simulation === null) {
      throw new Error('input must be {"id": string, "simulation": object}')
    }
    // {} = Strict mode: concrete requests only, no symbolic discovery.
    return summarise(id, await runSimulation(input.simulation, {}))
  } catch (err) {
    // A bad line must not end the process: the caller is still waiting for later answers.
    return { id, decision: '', resultType: 'error', blockedBy: '', ignoredContextKeys: [], errors: [`oracle: ${err}`] }
  }
}

async function write(text) {
  // Honour back-pressure so a slow reader cannot make Node buffer every answer.
  if (!process.stdout.write(text)) await once(process.stdout, 'drain')
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (line.trim() === '') continue
  await write(JSON.stringify(await answerLine(line)) + '\n')
}
