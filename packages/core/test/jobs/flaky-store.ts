// A JobStore wrapper that fails chosen calls the way a real store fails: nothing changes.
import { ForgeToolError } from '../../src/errors.js';
import type { JobStore } from '../../src/jobs/job-store.js';

type Method = keyof JobStore;

/** Delegates to `inner`; `failNext(method)` makes the next call of that method throw. */
export class FlakyStore implements JobStore {
  readonly #inner: JobStore;
  readonly #failures = new Map<Method, number>();
  /** Calls that were made to fail, by method. */
  readonly failed: Method[] = [];

  constructor(inner: JobStore) {
    this.#inner = inner;
  }

  /** Makes the next `times` calls of `method` fail with FT_ERR_STORE_FAILURE. */
  failNext(method: Method, times = 1): void {
    this.#failures.set(method, times);
  }

  #gate(method: Method): void {
    const left = this.#failures.get(method) ?? 0;
    if (left <= 0) return;
    this.#failures.set(method, left - 1);
    this.failed.push(method);
    throw new ForgeToolError(
      'FT_ERR_STORE_FAILURE',
      `Could not ${method}: disk I/O error (injected)`,
    );
  }

  insert: JobStore['insert'] = async (job) => (this.#gate('insert'), this.#inner.insert(job));
  get: JobStore['get'] = async (id) => (this.#gate('get'), this.#inner.get(id));
  findByIdempotencyKey: JobStore['findByIdempotencyKey'] = async (owner, key) => (
    this.#gate('findByIdempotencyKey'),
    this.#inner.findByIdempotencyKey(owner, key)
  );
  list: JobStore['list'] = async (query) => (this.#gate('list'), this.#inner.list(query));
  listQueued: JobStore['listQueued'] = async () => (
    this.#gate('listQueued'),
    this.#inner.listQueued()
  );
  countByStatus: JobStore['countByStatus'] = async () => (
    this.#gate('countByStatus'),
    this.#inner.countByStatus()
  );
  markRunning: JobStore['markRunning'] = async (id, backend) => (
    this.#gate('markRunning'),
    this.#inner.markRunning(id, backend)
  );
  updateProgress: JobStore['updateProgress'] = async (id, attempt, progress) => (
    this.#gate('updateProgress'),
    this.#inner.updateProgress(id, attempt, progress)
  );
  complete: JobStore['complete'] = async (id, attempt, result) => (
    this.#gate('complete'),
    this.#inner.complete(id, attempt, result)
  );
  fail: JobStore['fail'] = async (id, attempt, error) => (
    this.#gate('fail'),
    this.#inner.fail(id, attempt, error)
  );
  requeue: JobStore['requeue'] = async (id, attempt, error) => (
    this.#gate('requeue'),
    this.#inner.requeue(id, attempt, error)
  );
  cancel: JobStore['cancel'] = async (id, reason) => (
    this.#gate('cancel'),
    this.#inner.cancel(id, reason)
  );
  markImagesRemoved: JobStore['markImagesRemoved'] = async (id, indexes, at) => (
    this.#gate('markImagesRemoved'),
    this.#inner.markImagesRemoved(id, indexes, at)
  );
  recoverInterrupted: JobStore['recoverInterrupted'] = async () => (
    this.#gate('recoverInterrupted'),
    this.#inner.recoverInterrupted()
  );
  close: JobStore['close'] = async () => this.#inner.close();
}
