module.exports = { ...require('../../../jest.preset.js'), displayName: 'platform-domain', rootDir: __dirname };
