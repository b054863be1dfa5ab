/**
 * The local S3 on its own: `tsx local/s3/main.ts <data dir> [port]`. Prints its URL once it
 * listens. The conformance run (test/s3-conformance/run.sh) and the crash test use it.
 */
import { startS3Server } from './server';
import { DiskS3Store } from './store';

const main = async () => {
  const [dir, port = '0'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: tsx local/s3/main.ts <data dir> [port]');
  const store = await DiskS3Store.open(dir);
  const server = await startS3Server(store, '127.0.0.1', Number(port));
  console.log(server.url);
  const stop = () => {
    void server
      .close()
      .then(() => store.close())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
};

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
