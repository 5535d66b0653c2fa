module.exports = { ...require('../../../jest.preset.js'), displayName: 'privileged-domain', rootDir: __dirname };
