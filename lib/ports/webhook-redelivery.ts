export interface WebhookRedelivery {
  /** Holds the message back for `delaySeconds`; the queue delivers it again after that. */
  retryAfter(receiptHandle: string, delaySeconds: number): Promise<void>;
}
