/**
 * ioredis, pinned here. BullMQ treats it as an optional peer and throws without it, so the fleet
 * imports it explicitly.
 * @module
 */
export * from "npm:ioredis@5.11.1";
