import { describeExampleServer } from '@kiln/example-app/test-support';
import { startServer } from '../src/server';

describeExampleServer('koa', startServer);
