/** A process that executes runs, as a distributed scheduler knows it. */
export interface WorkerInfo {
  worker_id: string;
  host: string;
  pid: number;
  started_at: string;
  last_heartbeat: string;
  /** Run ids executing in that worker now. */
  running_runs: string[];
}
