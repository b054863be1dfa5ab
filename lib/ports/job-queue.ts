export interface JobMessage {
  jobId: string;
}

/** The queue between accepting a job and starting its execution. */
export interface JobQueue {
  enqueue(message: JobMessage): Promise<void>;
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

/** A look at the queues for operators: how deep they are, and what sits in the dead-letter queue. */
export interface QueueInspector {
  depth(queue: 'jobs' | 'deadLetter'): Promise<QueueDepth>;
  /**
   * Up to `max` dead-letter messages, peeked without taking them (each is received with no
   * visibility timeout, so it stays visible for whoever redrives it).
   */
  peekDeadLetters(
    max: number,
  ): Promise<{ messageId: string; jobId: string | null; sentAt: string | null; receiveCount: number }[]>;
}
