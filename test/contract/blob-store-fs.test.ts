// The BlobStore contract against the filesystem adapter, in a temporary folder.

import { FsBlobStore } from '../../src/adapters/blob/fs-store.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { blobStoreContract } from './blob-store.contract.js';

blobStoreContract('filesystem', async () => new FsBlobStore(makeTempDir('cratekeeper-blobs-')));
