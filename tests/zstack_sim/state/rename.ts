/**
 * The change every resource's update API shares: a new name and description, as
 * UpdateVmInstance, UpdateVolume and UpdateVolumeSnapshot take them.
 *
 * @module
 */

/** A new name and description; absent fields stay as they are. */
export interface NameChanges {
  name?: string;
  description?: string;
}

/** A resource that has a name and a description. */
export interface Named {
  name: string;
  description?: string;
  lastOpDate: Date;
}

/** Applies `changes` to `resource` and stamps its `lastOpDate`. */
export function rename(resource: Named, changes: NameChanges): void {
  if (changes.name !== undefined) resource.name = changes.name;
  if (changes.description !== undefined) resource.description = changes.description;
  resource.lastOpDate = new Date();
}
