export interface JobMessage {
  jobId: string;
}

/** The queue between accepting a job and starting its execution. */
export interface JobQueue {
  enqueue(message: JobMessage): Promise<void>;
}
