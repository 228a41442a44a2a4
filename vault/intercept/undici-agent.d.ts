// The vault loads undici's Agent and its request API alone: the package entry also loads fetch,
// WebSocket, the cache and the mock agents, which cost an idle vault several MiB it never uses.
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export default Agent;
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  import { Dispatcher } from 'undici';
  export default Dispatcher;
}
declare module 'undici/lib/api/index.js' {
  const api: object;
  export default api;
}
