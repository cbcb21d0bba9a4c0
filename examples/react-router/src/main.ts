import { runFromEnvironment } from '@kiln/example-app';
import { startServer } from './server';

await runFromEnvironment('React Router', startServer);
