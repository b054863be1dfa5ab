import { availableParallelism } from 'node:os';
import { intraOpThreadsFor, sessionOptions } from '../../gpu-container/src/execution-provider';
import { preprocessThreadsFor } from '../../gpu-container/src/shard-model';

describe('worker thread defaults', () => {
  it('gives ONNX Runtime every vCPU on the CPU provider and one thread under CUDA, unless configured', () => {
    expect(intraOpThreadsFor('cpu', '')).toBe(availableParallelism());
    expect(intraOpThreadsFor('cuda', '')).toBe(1);
    expect(intraOpThreadsFor('cpu', '3')).toBe(3);
    expect(intraOpThreadsFor('cuda', '')).toBe(1);
  });

  it('decodes images between batches on the CPU provider, and on every vCPU but one under CUDA', () => {
    expect(preprocessThreadsFor('cpu')).toBe(0);
    expect(preprocessThreadsFor('cuda')).toBe(Math.max(1, availableParallelism() - 1));
    expect(preprocessThreadsFor('cuda', 0)).toBe(0);
    expect(preprocessThreadsFor('cpu', 2)).toBe(2);
  });

  it('opens sessions fully optimized, sequential, with memory arena and pattern', () => {
    expect(sessionOptions('cuda')).toMatchObject({
      executionProviders: ['cuda'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      enableCpuMemArena: true,
      enableMemPattern: true,
    });
  });
});
