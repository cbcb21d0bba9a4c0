/**
 * @module
 * The end-to-end suite shared by the example servers: each example's test file calls
 * `describeExampleServer(name, startServer)`.
 */
export { describeExampleServer, type StartServer } from './suite';
