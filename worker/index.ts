import { swaggerUI } from '@hono/swagger-ui';
import { OpenAPIHono } from '@hono/zod-openapi';
import { contextStorage } from 'hono/context-storage';
import type { AppEnv } from './env.ts';
import { handleError, handleNotFound } from './errors.ts';
import { accessLog } from './middleware/access-log.ts';
import { corsFromEnv } from './middleware/cors.ts';
import { database } from './middleware/db.ts';
import { limitBodies, securityHeaders } from './middleware/security.ts';
import { routeTimeouts } from './middleware/timeouts.ts';
import { redisClient } from './middleware/redis.ts';
import { requestIds } from './middleware/request-id.ts';
import { adminAudit } from './routes/admin-audit.ts';
import { adminAvailability } from './routes/admin-availability.ts';
import { adminCalls } from './routes/admin-calls.ts';
import { adminFloor } from './routes/admin-floor.ts';
import { adminMenus } from './routes/admin-menus.ts';
import { adminStore } from './routes/admin-store.ts';
import { adminTables } from './routes/admin-tables.ts';
import { auth } from './routes/auth.ts';
import { customerCalls } from './routes/customer-calls.ts';
import { customerMenus } from './routes/customer-menus.ts';
import { customerOrders } from './routes/customer-orders.ts';
import { health } from './routes/health.ts';
import { images } from './routes/images.ts';
import { internalEvents } from './routes/internal-events.ts';
import { internalImages } from './routes/internal-images.ts';
import { menuImages } from './routes/menu-images.ts';
import { streams } from './routes/streams.ts';
import { superadmin } from './routes/superadmin.ts';
import { scheduled } from './scheduled.ts';

/**
 * The Table Order API. Middleware order matters — each wraps everything after it, so its headers
 * reach every response below it, errors included:
 * 1. the request's context storage, so that code deep below reads the request
 *    (platform/request-context); the request id, so that every response carries it and every event
 *    it causes; and the access log (one line per request, timed around everything below);
 * 2. security headers, and 3. CORS (an allowed origin's preflight is answered here);
 * 4. body limits (413 before anything reads the body);
 * 5. per-route time limits (504), around the database and the route — its auth and rate limit too;
 * 6. a per-request database pool for API routes, and the request's Redis client.
 * The rate limit needs the verified caller, so it runs inside `requireRole` (middleware/auth).
 * Each router declares its routes (and who may call them) with zod; together they form
 * `/openapi.json`.
 */
const app = new OpenAPIHono<AppEnv>();

app.use(contextStorage());
app.use(requestIds);
app.use(accessLog);
app.use(securityHeaders);
app.use(corsFromEnv);
app.use(limitBodies);
app.use('/api/*', routeTimeouts);
app.use('/internal/*', routeTimeouts);
app.use('/api/*', database);
app.use('/api/*', redisClient);
app.use('/internal/*', redisClient);

app.route('/', health);
app.route('/', auth);
app.route('/', customerMenus);
app.route('/', customerOrders);
app.route('/', customerCalls);
app.route('/', adminFloor);
app.route('/', adminCalls);
app.route('/', adminAudit);
app.route('/', adminTables);
app.route('/', adminMenus);
app.route('/', adminAvailability);
app.route('/', adminStore);
app.route('/', menuImages);
app.route('/', superadmin);
app.route('/', streams);
app.route('/', internalEvents);
app.route('/', internalImages);
app.route('/', images);

app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT (RS256, kid; keys at /.well-known/jwks.json)',
});
app.doc31('/openapi.json', {
  openapi: '3.1.0',
  info: {
    title: 'Table Order API',
    version: '1.0.0',
    description:
      'Restaurant table ordering. Errors: `{"error":{"code","message","details","request_id"}}`.',
  },
});
app.get('/docs', swaggerUI({ url: '/openapi.json' }));

app.notFound(handleNotFound);
app.onError(handleError);

/** HTTP requests go to the app; the Cron Trigger runs the retention job (scheduled.ts). */
export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Env>;
export { StoreHub } from './hub/store-hub.ts';
