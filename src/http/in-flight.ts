// Counts the HTTP requests a server is serving right now (received and not yet answered or aborted).
import type { Server } from 'node:http';

/**
 * Starts counting the requests `server` has in flight and returns a function that reads the count.
 * A request counts from its arrival until its response closes (sent in full, or the connection
 * went away), so an aborted request does not stay counted.
 */
export function countRequestsInFlight(server: Server): () => number {
  let inFlight = 0;
  server.on('request', (_request, response) => {
    inFlight++;
    response.once('close', () => inFlight--);
  });
  return () => inFlight;
}
