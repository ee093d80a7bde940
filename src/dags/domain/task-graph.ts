/**
 * Graph algorithms over a DAG's tasks, linear in tasks + dependencies. Edges run upstream → downstream:
 * `{taskId: 'b', dependsOn: ['a']}` is the edge a → b.
 */

export type TaskGraphNode = { readonly taskId: string; readonly dependsOn: readonly string[] };

type IndexedGraph = {
  /** Index of the first task declared with each id. */
  indexOf: Map<string, number>;
  /** Downstream task indexes of each task, in declaration order of the downstream task. */
  downstream: number[][];
  /** Upstream task indexes of each task, without duplicates. */
  upstream: number[][];
};

/**
 * Indexes the graph by the first task declared with each id; ids no task declares are left out, so run validation
 * first when that matters.
 */
function indexGraph(tasks: readonly TaskGraphNode[]): IndexedGraph {
  const indexOf = new Map<string, number>();
  tasks.forEach((task, i) => {
    if (!indexOf.has(task.taskId)) indexOf.set(task.taskId, i);
  });
  const downstream: number[][] = tasks.map(() => []);
  const upstream: number[][] = tasks.map((task, i) => {
    if (indexOf.get(task.taskId) !== i) return [];
    const ups = new Set<number>();
    for (const dep of task.dependsOn) {
      const u = indexOf.get(dep);
      if (u !== undefined) ups.add(u);
    }
    return [...ups];
  });
  upstream.forEach((ups, i) => ups.forEach((u) => downstream[u].push(i)));
  return { indexOf, downstream, upstream };
}

/**
 * Tasks in an order where every task comes after all of its upstream tasks (Kahn's algorithm); among tasks that are
 * ready at the same time the one declared first goes first, so the order is stable.
 * Throws when a dependency names no task or the tasks form a cycle: validated DAG documents have neither.
 */
export function topologicalOrder<T extends TaskGraphNode>(tasks: readonly T[]): T[] {
  const known = new Set(tasks.map((t) => t.taskId));
  if (known.size !== tasks.length) throw new Error('cannot order tasks: duplicate task ids');
  for (const task of tasks) {
    const unknown = task.dependsOn.find((dep) => !known.has(dep));
    if (unknown !== undefined) {
      throw new Error(`cannot order tasks: '${task.taskId}' depends on unknown task '${unknown}'`);
    }
  }
  const { downstream, upstream } = indexGraph(tasks);
  const waitingOn = upstream.map((ups) => ups.length);
  const ready = new MinHeap();
  waitingOn.forEach((n, i) => {
    if (n === 0) ready.push(i);
  });
  const order: T[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    order.push(tasks[i]);
    for (const d of downstream[i]) {
      waitingOn[d] -= 1;
      if (waitingOn[d] === 0) ready.push(d);
    }
  }
  if (order.length < tasks.length) {
    throw new Error(`cannot order tasks: cycle detected: ${formatCycle(detectCycle(tasks) ?? [])}`);
  }
  return order;
}

/**
 * One cycle per group of tasks that depend on each other (strongly connected component), each listed in edge
 * order starting from its earliest-declared task, e.g. ['a', 'b', 'c'] for a → b → c → a; a task that depends on
 * itself is the cycle [task]. Groups come in declaration order of their first task. Dependencies naming no task are
 * ignored.
 */
export function detectCycles(tasks: readonly TaskGraphNode[]): string[][] {
  const { downstream, upstream } = indexGraph(tasks);
  return stronglyConnectedComponents(downstream)
    .filter((component) => component.length > 1 || upstream[component[0]].includes(component[0]))
    .map((component) => shortestCycleThrough(Math.min(...component), new Set(component), downstream))
    .sort((a, b) => a[0] - b[0])
    .map((cycle) => cycle.map((i) => tasks[i].taskId));
}

/** The first cycle `detectCycles` finds, or null when the tasks form a DAG. */
export function detectCycle(tasks: readonly TaskGraphNode[]): string[] | null {
  return detectCycles(tasks)[0] ?? null;
}

/** Renders a cycle as `a -> b -> c -> a`. */
export function formatCycle(cycle: readonly string[]): string {
  return [...cycle, cycle[0]].join(' -> ');
}

/**
 * Returns a predicate telling whether `upstreamId` is one of the tasks `taskId` depends on, directly or
 * transitively. Ancestor sets are bitsets filled in topological order (n²/8 bytes: 125 KB for 1,000 tasks), so each
 * answer is O(1); tasks in or below a cycle fall back to a search.
 */
export function upstreamChecker(tasks: readonly TaskGraphNode[]): (upstreamId: string, taskId: string) => boolean {
  const { indexOf, downstream, upstream } = indexGraph(tasks);
  const words = Math.ceil(tasks.length / 32);
  const ancestors = new Uint32Array(tasks.length * words);
  const done = new Array<boolean>(tasks.length).fill(false);
  const waitingOn = upstream.map((ups) => ups.length);
  const ready = upstream.flatMap((ups, i) => (ups.length === 0 ? [i] : []));
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    done[i] = true;
    for (const u of upstream[i]) {
      for (let w = 0; w < words; w++) ancestors[i * words + w] |= ancestors[u * words + w];
      ancestors[i * words + (u >> 5)] |= 1 << (u & 31);
    }
    for (const d of downstream[i]) if (--waitingOn[d] === 0) ready.push(d);
  }
  return (upstreamId, taskId) => {
    const u = indexOf.get(upstreamId);
    const t = indexOf.get(taskId);
    if (u === undefined || t === undefined) return false;
    if (done[t]) return (ancestors[t * words + (u >> 5)] & (1 << (u & 31))) !== 0;
    const seen = new Set<number>();
    const stack = [...upstream[t]];
    for (let i = stack.pop(); i !== undefined; i = stack.pop()) {
      if (i === u) return true;
      if (seen.has(i)) continue;
      seen.add(i);
      stack.push(...upstream[i]);
    }
    return false;
  };
}

/** Tarjan's algorithm, iterative so a 1,000-task chain cannot overflow the call stack. */
function stronglyConnectedComponents(edges: readonly number[][]): number[][] {
  const index = new Array<number>(edges.length).fill(-1);
  const low = new Array<number>(edges.length).fill(0);
  const onStack = new Array<boolean>(edges.length).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < edges.length; root++) {
    if (index[root] !== -1) continue;
    const work: Array<{ node: number; next: number }> = [{ node: root, next: 0 }];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const { node } = frame;
      if (frame.next < edges[node].length) {
        const to = edges[node][frame.next++];
        if (index[to] === -1) {
          index[to] = low[to] = counter++;
          stack.push(to);
          onStack[to] = true;
          work.push({ node: to, next: 0 });
        } else if (onStack[to]) {
          low[node] = Math.min(low[node], index[to]);
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low[parent] = Math.min(low[parent], low[node]);
      }
      if (low[node] === index[node]) {
        const component: number[] = [];
        let member: number;
        do {
          member = stack.pop() as number;
          onStack[member] = false;
          component.push(member);
        } while (member !== node);
        components.push(component);
      }
    }
  }
  return components;
}

/** Breadth-first search inside one component from `start` back to itself: the shortest cycle through it. */
function shortestCycleThrough(start: number, members: ReadonlySet<number>, edges: readonly number[][]): number[] {
  const previous = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head];
    for (const to of edges[node]) {
      if (!members.has(to)) continue;
      if (to === start) {
        const cycle = [node];
        for (let at = node; at !== start; ) {
          at = previous.get(at) as number;
          cycle.push(at);
        }
        return cycle.reverse();
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start];
}

/** Binary min-heap of task indexes: the ready task declared first comes out first. */
class MinHeap {
  private readonly items: number[] = [];

  push(value: number): void {
    const items = this.items;
    items.push(value);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (items[parent] <= items[i]) break;
      [items[parent], items[i]] = [items[i], items[parent]];
      i = parent;
    }
  }

  pop(): number | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop() as number;
    if (items.length > 0) {
      items[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && items[left] < items[smallest]) smallest = left;
        if (right < items.length && items[right] < items[smallest]) smallest = right;
        if (smallest === i) break;
        [items[smallest], items[i]] = [items[i], items[smallest]];
        i = smallest;
      }
    }
    return top;
  }
}
